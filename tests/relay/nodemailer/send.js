// Send one message through the relay with Nodemailer over implicit TLS and print the result
// (or the error's SMTP response) as JSON, for tests/relay/test_relay_nodemailer.py.
const fs = require("fs");
const nodemailer = require("nodemailer");

const [port, key, caFile, stream] = process.argv.slice(2);
const transport = nodemailer.createTransport({
  host: "localhost",
  port: Number(port),
  secure: true, // implicit TLS, as the relay requires
  auth: { user: "apikey", pass: key },
  tls: { ca: fs.readFileSync(caFile) },
});
transport
  .sendMail({
    from: "app@example.com",
    to: "user@example.net",
    subject: "from nodemailer",
    text: "hello from node",
    headers: { "X-Mailconsole-Stream": stream },
  })
  .then((info) => console.log(JSON.stringify({ ok: true, response: info.response })))
  .catch((err) => console.log(JSON.stringify({ ok: false, code: err.responseCode || null, response: err.response || String(err) })));
