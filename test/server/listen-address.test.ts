import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JunctionError } from "../../src/core/errors.js";
import { formatHttpUrl, parseListenAddress } from "../../src/server/listen-address.js";

describe("parseListenAddress", () => {
  test("reads host:port, [ipv6]:port, :port and a bare port", () => {
    assert.deepEqual(parseListenAddress("127.0.0.1:9464"), { host: "127.0.0.1", port: 9464 });
    assert.deepEqual(parseListenAddress("0.0.0.0:0"), { host: "0.0.0.0", port: 0 });
    assert.deepEqual(parseListenAddress("localhost:8080"), { host: "localhost", port: 8080 });
    assert.deepEqual(parseListenAddress("[::1]:9464"), { host: "::1", port: 9464 });
    assert.deepEqual(parseListenAddress(":9464"), { host: "127.0.0.1", port: 9464 });
    assert.deepEqual(parseListenAddress(" 9464 "), { host: "127.0.0.1", port: 9464 });
  });

  test("rejects anything else with a config error showing the format", () => {
    for (const bad of ["", "localhost", "host:", "host:99999", "::1:80", "host:port", "http://x:80"]) {
      assert.throws(
        () => parseListenAddress(bad),
        (error: unknown) => error instanceof JunctionError && error.kind === "config" && /admin\.listen must look like/.test(error.message),
        bad,
      );
    }
  });
});

describe("formatHttpUrl", () => {
  test("brackets IPv6 hosts", () => {
    assert.equal(formatHttpUrl("127.0.0.1", 80), "http://127.0.0.1:80");
    assert.equal(formatHttpUrl("::1", 9464), "http://[::1]:9464");
  });
});
