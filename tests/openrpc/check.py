#!/usr/bin/env python3
"""check.py DOC.json METHOD...: is DOC futured's OpenRPC document (issue #12)?
check.py --responses DOC.json FILE: do futured's answers agree with DOC?

Checks, and prints every failure found (exit 1), or one "ok" line (exit 0):
  - DOC is valid against the OpenRPC 1.2.6 meta-schema vendored beside this
    file (openrpc-schema.json, see README), with "openrpc": "1.2.6";
  - it describes each METHOD exactly once, and no other method;
  - every "$ref" in it resolves inside the document;
  - every method has paramStructure "by-name" and a result, and each of its
    params is an inline content descriptor (futured reads name and required
    from it) with a schema and a boolean required, names unique;
  - every schema under components.schemas, and every param's and result's
    schema, is a valid JSON Schema (Draft 7 meta-schema);
  - the error codes under components.errors are unique.

With --responses, FILE holds one JSON object a line, {"method": M, "what":
LABEL, "response": R}, maybe with "schema": "#/components/schemas/X".  R, a
JSON-RPC response to a call of M (M "" or null: to a request as a whole),
must have a result valid against M's result schema (and X), or an error
whose code M lists (or one of a request: -32700, -32600, -32601, 8), whose
message is the one components.errors gives that code, and whose data is
valid against that error's data (which this document writes as a JSON
Schema).

Needs python3's jsonschema (Debian: python3-jsonschema; 4.10 or later).  When
this interpreter has none, Debian's /usr/lib/python3/dist-packages is tried.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
META = os.path.join(HERE, "openrpc-schema.json")
# The vendored meta-schema's JSONSchema definition points at the
# json-schema-tools meta-schema, a description of JSON Schema Draft 7; it is
# not fetched (no network): Draft 7's own meta-schema stands in for it.
REMOTE_JSONSCHEMA = ("https://raw.githubusercontent.com/json-schema-tools/"
                     "meta-schema/1.3.0/src/schema.json")
OPENRPC_VERSION = "1.2.6"


def die(msg):
    print("check.py: " + msg, file=sys.stderr)
    sys.exit(1)


try:
    import jsonschema
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import jsonschema
    except ImportError:
        die("needs python3's jsonschema module (Debian: apt-get install "
            "python3-jsonschema), not found by %s" % sys.executable)
from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

failures = []


def fail(msg):
    failures.append(msg)


def where(path):
    return "/".join(str(p) for p in path) or "(root)"


def meta_validator(meta):
    """A Draft 7 validator of meta whose remote reference resolves locally."""
    draft7 = Draft7Validator.META_SCHEMA
    try:
        import referencing
        import referencing.jsonschema
    except ImportError:
        referencing = None
    if referencing is not None:
        resource = referencing.Resource.from_contents(
            draft7, default_specification=referencing.jsonschema.DRAFT7)
        registry = referencing.Registry().with_resource(REMOTE_JSONSCHEMA,
                                                        resource)
        return Draft7Validator(meta, registry=registry)
    resolver = jsonschema.RefResolver.from_schema(
        meta, store={REMOTE_JSONSCHEMA: draft7,
                     REMOTE_JSONSCHEMA + "#": draft7})
    return Draft7Validator(meta, resolver=resolver)


def deepest(e):
    """A oneOf failure says little by itself: the cause deepest in DOC."""
    while e.context:
        e = max(e.context, key=lambda c: len(c.absolute_path))
    return e


def pointer(doc, ref):
    """The value ref ("#/a/b") names in doc, or raises KeyError."""
    if not ref.startswith("#"):
        raise KeyError("not a reference inside the document")
    node = doc
    frag = ref[1:]
    if frag == "":
        return node
    if not frag.startswith("/"):
        raise KeyError("not a JSON pointer")
    for tok in frag[1:].split("/"):
        tok = tok.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            if tok not in node:
                raise KeyError(tok)
            node = node[tok]
        elif isinstance(node, list):
            if not tok.isdigit() or int(tok) >= len(node):
                raise KeyError(tok)
            node = node[int(tok)]
        else:
            raise KeyError(tok)
    return node


def walk_refs(doc, node, path):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if "$ref" in node:
            if not isinstance(ref, str):
                fail("%s: $ref is not a string" % where(path))
            else:
                try:
                    pointer(doc, ref)
                except KeyError as e:
                    fail("%s: $ref %s does not resolve inside the document "
                         "(%s)" % (where(path), ref, e))
        for k, v in node.items():
            walk_refs(doc, v, path + [k])
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(doc, v, path + [i])


def check_schema(schema, what):
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as e:
        fail("%s: not a valid JSON Schema (Draft 7): %s at %s" %
             (what, e.message, where(list(e.path))))


# The errors of a request as a whole rather than of a method.
REQUEST_CODES = (-32700, -32600, -32601, 8)


def doc_validator(doc, ref):
    """A validator of the schema at ref (#/...) inside doc, refs resolved."""
    root = dict(doc)
    root["$ref"] = ref
    return Draft7Validator(root)


def check_responses(doc, path):
    methods = {m.get("name"): m for m in doc.get("methods", [])
               if isinstance(m, dict)}
    by_code = {}
    for name, e in doc.get("components", {}).get("errors", {}).items():
        by_code[e.get("code")] = ("#/components/errors/" + name, e)
    n = 0
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        die("%s: %s" % (path, e))
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                mn, what, resp = rec.get("method"), rec.get("what", ""), \
                    rec["response"]
            except (ValueError, KeyError, AttributeError) as e:
                fail("%s:%d: not a {method, what, response} line: %s" %
                     (path, lineno, e))
                continue
            n += 1
            label = "%s (%s)" % (mn or "request", what) if what else \
                (mn or "request")
            if not isinstance(resp, dict):
                fail("%s: not a response object: %.200s" % (label, line))
                continue
            m = methods.get(mn) if mn else None
            if mn and m is None:
                fail("%s: method not in the document" % label)
                continue
            if "result" in resp and m is not None:
                res = m.get("result", {})
                ref = res["$ref"] if "$ref" in res else \
                    "#/methods/%d/result/schema" % \
                    doc["methods"].index(m)
                refs = [ref] + ([rec["schema"]] if rec.get("schema") else [])
                for ref in refs:
                    for e in doc_validator(doc, ref).iter_errors(
                            resp["result"]):
                        e = deepest(e)
                        fail("%s: result at %s: %s" %
                             (label, where(list(e.absolute_path)), e.message))
                continue
            err = resp.get("error")
            if not isinstance(err, dict):
                fail("%s: neither a result nor an error: %.200s" %
                     (label, json.dumps(resp)))
                continue
            code = err.get("code")
            if code not in by_code:
                fail("%s: error code %r is not under components.errors" %
                     (label, code))
                continue
            eref, ecomp = by_code[code]
            listed = [x.get("$ref") if "$ref" in x else None
                      for x in (m.get("errors", []) if m else [])]
            if code not in REQUEST_CODES and eref not in listed:
                fail("%s: answered error %s (%s), which the method does not "
                     "list" % (label, code, eref.split("/")[-1]))
            if err.get("message") != ecomp.get("message"):
                fail("%s: error %s has message %r, the document says %r" %
                     (label, code, err.get("message"), ecomp.get("message")))
            if "data" in err:
                for e in doc_validator(doc, eref + "/data").iter_errors(
                        err["data"]):
                    e = deepest(e)
                    fail("%s: error %s data at %s: %s" %
                         (label, code, where(list(e.absolute_path)),
                          e.message))
            elif ecomp.get("data", {}).get("required"):
                fail("%s: error %s has no data" % (label, code))
    return n


def main(argv):
    if len(argv) == 4 and argv[1] == "--responses":
        try:
            with open(argv[2], encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            die("%s: not a JSON document: %s" % (argv[2], e))
        n = check_responses(doc, argv[3])
        if failures:
            for f in failures:
                print("FAIL: %s" % f, file=sys.stderr)
            print("%s: %d failure(s) in %d responses" %
                  (argv[3], len(failures), n), file=sys.stderr)
            return 1
        print("ok: %s: %d responses agree with %s" % (argv[3], n, argv[2]))
        return 0
    if len(argv) < 3 or argv[1].startswith("--"):
        die("usage: check.py DOC.json METHOD... | "
            "check.py --responses DOC.json FILE")
    path, wanted = argv[1], argv[2:]
    try:
        with open(META, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read the meta-schema %s: %s" % (META, e))
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        die("%s: not a JSON document: %s" % (path, e))

    # the meta-schema
    errors = sorted(meta_validator(meta).iter_errors(doc),
                    key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        best = deepest(e)
        fail("meta-schema: %s: %s" % (where(list(best.absolute_path)),
                                      best.message))
    if not isinstance(doc, dict):
        die("%s: not an object" % path)
    if doc.get("openrpc") != OPENRPC_VERSION:
        fail("openrpc is %r, want %r" % (doc.get("openrpc"),
                                          OPENRPC_VERSION))

    # the methods, each once
    methods = doc.get("methods")
    if not isinstance(methods, list):
        methods = []
        fail("methods is not an array")
    names = [m.get("name") for m in methods if isinstance(m, dict)]
    for n in wanted:
        c = names.count(n)
        if c != 1:
            fail("method %s is described %d times, want once" % (n, c))
    for n in sorted(set(str(n) for n in names) - set(wanted)):
        fail("method %s is described but not expected" % n)
    if len(set(wanted)) != len(wanted):
        fail("the expected methods hold a name twice: %s" % " ".join(wanted))

    for i, m in enumerate(methods):
        if not isinstance(m, dict):
            fail("methods/%d: not an object" % i)
            continue
        mn = m.get("name", "methods/%d" % i)
        if m.get("paramStructure") != "by-name":
            fail("%s: paramStructure is %r, want \"by-name\"" %
                 (mn, m.get("paramStructure")))
        res = m.get("result")
        if not isinstance(res, dict):
            fail("%s: no result" % mn)
        elif "$ref" not in res:
            if "schema" not in res:
                fail("%s: result has no schema" % mn)
            else:
                check_schema(res["schema"], "%s: result schema" % mn)
        params = m.get("params")
        if not isinstance(params, list):
            fail("%s: params is not an array" % mn)
            continue
        seen = set()
        for j, p in enumerate(params):
            what = "%s: params/%d" % (mn, j)
            if not isinstance(p, dict) or "$ref" in p:
                fail("%s: not an inline content descriptor (futured reads "
                     "name and required from it)" % what)
                continue
            pn = p.get("name")
            if not isinstance(pn, str) or pn == "":
                fail("%s: no name" % what)
            else:
                what = "%s: param %s" % (mn, pn)
                if pn in seen:
                    fail("%s: listed twice" % what)
                seen.add(pn)
            if "schema" not in p:
                fail("%s: no schema" % what)
            else:
                check_schema(p["schema"], what + " schema")
            if not isinstance(p.get("required"), bool):
                fail("%s: required is %r, want true or false" %
                     (what, p.get("required")))
        if not isinstance(m.get("errors", []), list):
            fail("%s: errors is not an array" % mn)

    # components
    comps = doc.get("components", {})
    schemas = comps.get("schemas", {}) if isinstance(comps, dict) else {}
    for name, s in sorted(schemas.items()):
        check_schema(s, "components/schemas/%s" % name)
    errs = comps.get("errors", {}) if isinstance(comps, dict) else {}
    codes = {}
    for name, e in sorted(errs.items()):
        if isinstance(e, dict) and "code" in e:
            if e["code"] in codes:
                fail("components/errors/%s: code %r already used by %s" %
                     (name, e["code"], codes[e["code"]]))
            codes[e["code"]] = name

    # references
    walk_refs(doc, doc, [])

    if failures:
        for f in failures:
            print("FAIL: %s: %s" % (path, f), file=sys.stderr)
        print("%s: %d failure(s)" % (path, len(failures)), file=sys.stderr)
        return 1
    print("ok: %s: OpenRPC %s, %d methods, %d component schemas, %d errors "
          "(jsonschema %s)" % (path, doc["openrpc"], len(methods),
                               len(schemas), len(errs), jsonschema_version()))
    return 0


def jsonschema_version():
    try:
        from importlib.metadata import version
        return version("jsonschema")
    except Exception:
        return getattr(jsonschema, "__version__", "?")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
