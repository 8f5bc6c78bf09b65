import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { findLink, parseLinkHeader } from "../../../src/connectors/http/pagination-link-header.js";
import { pathUnderBase } from "../../../src/connectors/http/pagination-link-target.js";

const base = new URL("https://api.example.com/v1/items?page=2");

describe("Link header (RFC 8288)", () => {
  test("several links in one value, quoted and unquoted rel, other params kept", () => {
    const links = parseLinkHeader('<https://api.example.com/v1/items?page=3>; rel="next", <https://api.example.com/v1/items?page=9>; rel=last; title="the end"');
    assert.deepEqual(links, [
      { target: "https://api.example.com/v1/items?page=3", params: { rel: "next" } },
      { target: "https://api.example.com/v1/items?page=9", params: { rel: "last", title: "the end" } },
    ]);
    assert.equal(findLink(links, "next", base)?.href, "https://api.example.com/v1/items?page=3");
    assert.equal(findLink(links, "prev", base), undefined);
  });

  test("commas and semicolons inside <…> and inside quoted strings, escapes, spaces, a rel list, case", () => {
    const header = '<items?filter=a,b;c>; title="x, y; \\"z\\""; REL="prev", <items?page=3>;rel="Last NEXT" ; foo';
    const links = parseLinkHeader(header);
    assert.equal(links.length, 2);
    assert.deepEqual(links[0], { target: "items?filter=a,b;c", params: { title: 'x, y; "z"', rel: "prev" } });
    assert.deepEqual(links[1], { target: "items?page=3", params: { rel: "Last NEXT", foo: "" } });
    assert.equal(findLink(links, "next", base)?.href, "https://api.example.com/v1/items?page=3", "relative target resolved against the request URL");
  });

  test("several header values (an array) and only the first occurrence of a parameter counts", () => {
    const links = parseLinkHeader(['</v1/items?page=1>; rel="first"', '</v1/items?page=3>; rel="next"; rel="prev"']);
    assert.equal(findLink(links, "next", base)?.href, "https://api.example.com/v1/items?page=3");
    assert.equal(findLink(links, "prev", base), undefined);
    assert.equal(findLink(links, "first", base)?.href, "https://api.example.com/v1/items?page=1");
  });

  test("malformed parts are skipped; an empty or missing header has no links", () => {
    assert.deepEqual(parseLinkHeader(undefined), []);
    assert.deepEqual(parseLinkHeader(""), []);
    const links = parseLinkHeader('garbage; rel="next", <?page=4>; rel="next"');
    assert.deepEqual(links, [{ target: "?page=4", params: { rel: "next" } }]);
    assert.equal(findLink(links, "next", base)?.href, "https://api.example.com/v1/items?page=4");
    assert.deepEqual(parseLinkHeader("<unterminated; rel=next"), []);
  });

  test("a linked URL becomes a path under base_url, or is refused outside it", () => {
    const root = new URL("https://api.example.com/v1/");
    assert.equal(pathUnderBase(root, new URL("https://api.example.com/v1/items?page=2")), "items?page=2");
    assert.equal(pathUnderBase(new URL("https://api.example.com/v1"), new URL("https://api.example.com/v1?page=2")), "?page=2");
    assert.equal(pathUnderBase(root, new URL("https://api.example.com/v2/items")), undefined, "outside the base path");
    assert.equal(pathUnderBase(root, new URL("https://evil.example.com/v1/items")), undefined, "another origin");
    assert.equal(pathUnderBase(root, new URL("http://api.example.com/v1/items")), undefined, "another scheme");
    assert.equal(pathUnderBase(new URL("https://api.example.com"), new URL("https://api.example.com/anything?x=1")), "anything?x=1");
  });
});
