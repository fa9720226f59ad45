// A ZEGO callback receiver in Node, written from ZEGO's documentation only.
//
//   node zego_receiver.mjs SECRET [numeric-sort]
//
// Prints "listening <port>" once it listens on 127.0.0.1 (a free port). POST any path.
// Reads a JSON body (URL-decoding it first when it is percent-encoded, as the docs ask)
// or a form body; sorts [secret, timestamp, nonce] as strings (Array.prototype.sort's
// default), joins, SHA-1 hex, compares in constant time; refuses timestamps more than
// 300 s away; acknowledges a repeat of an accepted body, refuses a different body under
// a seen timestamp and nonce. With "numeric-sort" it sorts with (a, b) => a - b: the bug.
import crypto from "node:crypto";
import http from "node:http";

const secret = process.argv[2];
const numericSort = process.argv[3] === "numeric-sort";
const seen = new Map();

function fieldsOf(body, contentType) {
  if ((contentType || "").startsWith("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(body));
  }
  const text = body.startsWith("%") ? decodeURIComponent(body) : body;
  const data = JSON.parse(text);
  const fields = {};
  for (const [key, value] of Object.entries(data)) {
    fields[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return fields;
}

// transcode_start/transcode_stop spell the three fields Timestamp, Nonce, Signature
function common(fields, name) {
  const value = fields[name] ?? fields[name[0].toUpperCase() + name.slice(1)];
  return value === undefined ? "" : String(value);
}

function signatureOk(fields) {
  const parts = [secret, common(fields, "timestamp"), common(fields, "nonce")];
  if (numericSort) parts.sort((a, b) => a - b);
  else parts.sort();
  const expected = crypto.createHash("sha1").update(parts.join("")).digest("hex");
  const given = common(fields, "signature");
  return given.length === expected.length &&
    crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

function answer(res, status, text) {
  res.writeHead(status, { "Content-Type": "text/plain" });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    let fields;
    try {
      fields = fieldsOf(Buffer.concat(chunks).toString("utf8"), req.headers["content-type"]);
    } catch (err) {
      return answer(res, 400, "not a callback");
    }
    if (!signatureOk(fields)) return answer(res, 401, "bad signature");
    const age = Date.now() / 1000 - Number(common(fields, "timestamp"));
    if (!Number.isFinite(age) || Math.abs(age) > 300) return answer(res, 401, "stale");
    const key = `${common(fields, "timestamp")}:${common(fields, "nonce")}`;
    const body = JSON.stringify(Object.entries(fields).sort());
    if (seen.has(key)) {
      return seen.get(key) === body ? answer(res, 200, "duplicate") : answer(res, 409, "replay");
    }
    seen.set(key, body);
    if (fields.event === "procedure" && fields.extra_params) JSON.parse(fields.extra_params);
    answer(res, 200, "success");
  });
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
