"""Checks that docs/dialect/NL.md explains every value of every nl enum.

  enum-docs.py NLEnums.td NL.md

Each value is an NL_EnumCase<"sym", n, "meaning"> of NLEnums.td; the
generated reference must contain "`sym`: meaning" for it (in the rule's or a
type's parameter table, or an op's attribute table).
"""
import re
import sys

td = open(sys.argv[1], encoding="utf-8").read()
md = open(sys.argv[2], encoding="utf-8").read()
enums = re.findall(r'def (NL_\w+) : NL_(?:Op)?Enum<"(\w+)",(.*?)\]>;', td,
                   re.S)
missing, values = [], 0
for _, name, body in enums:
    for sym, doc in re.findall(r'NL_EnumCase<"(\w+)", \d+, "((?:[^"\\]|\\.)*)">',
                               body):
        values += 1
        if "`%s`: %s" % (sym, doc) not in md:
            missing.append("%s::%s" % (name, sym))
bare = re.findall(r'^\s*I32EnumAttrCase<', td, re.M)
for m in missing:
    print("undocumented:", m)
print("enum-docs: %d enums, %d values, %d undocumented, %d bare cases" %
      (len(enums), values, len(missing), len(bare)))
sys.exit(1 if missing or bare or not values else 0)
