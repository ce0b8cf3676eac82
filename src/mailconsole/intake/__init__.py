"""What the SMTP relay and the HTTP API share: parsing, policy, group commit, keys.

``relay/`` and ``api/`` are sibling adapters over this package; neither imports the other.
"""
