"""A reader of the declarations of a `.nl` file (docs/language.md), written
from the language's grammar, not from nlc: the model header, hyper-parameters
(with -D overrides), `defaults`, params, levels (period, options, rule
fields, states and their types) and transfers. The step is kept as its
token list (the references implement each model's step by hand and compare
it with the file's, see torch_models.py).

    model = parse_file(path, defines={"dim": "16"})
"""
import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<str>"[^"\n]*")
  | (?P<op>->|[()\[\]{},=:@+\-*/])
""", re.X)


class NLError(Exception):
    pass


@dataclass
class Tok:
    kind: str
    text: str
    line: int


def tokenize(text, path="<nl>"):
    out, pos, line = [], 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise NLError(f"{path}:{line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind != "space":
            out.append(Tok(kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    return out


@dataclass
class Init:
    kind: str                      # zeros, ones, identity, fill, normal, uniform, file, param
    args: dict = field(default_factory=dict)   # key -> value; positional under "_0", "_1"


@dataclass
class Param:
    name: str
    shape: tuple
    init: Init


@dataclass
class State:
    name: str
    kind: str                      # matrix, mlp, kv_cache, buffer
    dims: tuple                    # matrix: (rows, cols); mlp: widths; buffer: shape
    opts: dict                     # options (flags map to True)
    init: Init = None


@dataclass
class Level:
    name: str
    period: object                 # int >= 1, "inf" or "frozen"
    phase: str = "online"
    tail: str = "carry"
    rule: dict = field(default_factory=dict)        # the level's own fields, resolved
    explicit: set = field(default_factory=set)      # fields the level's rule states itself
    states: list = field(default_factory=list)


@dataclass
class Model:
    name: str
    dim: int
    heads: int
    hypers: dict                   # name -> number (int when declared integer)
    defaults: dict
    params: dict                   # name -> Param, declaration order
    levels: list
    transfers: list                # (kind, from, to, reset)
    step_arg: str
    step: list                     # the step's tokens (texts)
    path: str = ""

    def level(self, name):
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise KeyError(name)


def _number(text):
    if re.fullmatch(r"\d+", text):
        return int(text)
    return float(text)


class _Parser:
    def __init__(self, toks, path, defines):
        self.t, self.i, self.path = toks, 0, path
        self.defines = dict(defines or {})
        self.hypers = {}

    # -- tokens
    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else Tok("eof", "", -1)

    def err(self, msg):
        raise NLError(f"{self.path}:{self.peek().line}: {msg}")

    def next(self):
        tok = self.peek()
        if tok.kind == "eof":
            self.err("unexpected end of file")
        self.i += 1
        return tok

    def expect(self, text):
        tok = self.next()
        if tok.text != text:
            self.i -= 1
            self.err(f"expected '{text}', got '{tok.text}'")
        return tok

    def accept(self, text):
        if self.peek().text == text:
            self.i += 1
            return True
        return False

    def name(self):
        tok = self.next()
        if tok.kind != "name":
            self.i -= 1
            self.err(f"expected a name, got '{tok.text}'")
        return tok.text

    # -- values
    def value(self):
        """['-'] NUMBER | NAME (a hyper resolves to its number) | STRING | '[' values ']'"""
        if self.accept("-"):
            tok = self.next()
            if tok.kind == "num":
                return -_number(tok.text)
            if tok.kind == "name" and tok.text in self.hypers:
                return -self.hypers[tok.text]
            self.err("expected a number after '-'")
        tok = self.next()
        if tok.kind == "num":
            return _number(tok.text)
        if tok.kind == "str":
            return tok.text[1:-1]
        if tok.kind == "name":
            return self.hypers.get(tok.text, tok.text)
        if tok.text == "[":
            vals = []
            if not self.accept("]"):
                vals.append(self.value())
                while self.accept(","):
                    vals.append(self.value())
                self.expect("]")
            return vals
        self.i -= 1
        self.err(f"expected a value, got '{tok.text}'")

    def key_values(self, close):
        out = {}
        if self.accept(close):
            return out
        while True:
            k = self.name()
            self.expect("=")
            out[k] = self.value()
            if self.accept(close):
                return out
            self.expect(",")

    def options(self):
        """'(' (key = value | NAME)* ')' -> dict (a bare NAME is a flag)."""
        out = {}
        if self.accept(")"):
            return out
        while True:
            k = self.name()
            out[k] = self.value() if self.accept("=") else True
            if self.accept(")"):
                return out
            self.expect(",")

    def shape(self):
        self.expect("[")
        dims = [self.value()]
        while self.accept(","):
            dims.append(self.value())
        self.expect("]")
        for d in dims:
            if not isinstance(d, int):
                self.err(f"shape entry {d!r} is not an integer")
        return tuple(dims)

    def init(self):
        kind = self.name()
        args = {}
        if self.accept("("):
            n = 0
            if not self.accept(")"):
                while True:
                    if self.peek().kind == "name" and self.peek(1).text == "=":
                        k = self.name()
                        self.expect("=")
                        args[k] = self.value()
                    else:
                        args[f"_{n}"] = self.value()
                        n += 1
                    if self.accept(")"):
                        break
                    self.expect(",")
        return Init(kind, args)

    # -- declarations
    def hyper(self):
        name = self.name()
        self.expect("=")
        neg = self.accept("-")
        tok = self.next()
        if tok.kind != "num":
            self.err("a hyper-parameter takes a number")
        val = _number(tok.text)
        val = -val if neg else val
        if name in self.defines:
            text = self.defines.pop(name)
            try:
                over = _number(text.lstrip("-"))
            except ValueError:
                raise NLError(f"-D {name}={text}: not a number")
            over = -over if text.startswith("-") else over
            if isinstance(val, int) and not isinstance(over, int):
                if float(over).is_integer():
                    over = int(over)
                else:
                    raise NLError(f"-D {name}={text}: '{name}' is an integer hyper-parameter")
            if isinstance(val, float):
                over = float(over)
            val = over
        self.hypers[name] = val

    def level(self):
        name = self.name()
        self.expect("period")
        period = self.value()
        if not (period in ("inf", "frozen") or (isinstance(period, int) and period >= 1)):
            self.err(f"level {name}: period {period!r} is not an integer >= 1, 'inf' or 'frozen'")
        lv = Level(name, period)
        while self.peek().text in ("phase", "tail"):
            setattr(lv, self.next().text, self.name())
        self.expect("{")
        while not self.accept("}"):
            item = self.name()
            if item == "rule":
                self.expect("{")
                lv.rule = self.key_values("}")
                lv.explicit = set(lv.rule)
            elif item == "state":
                sname = self.name()
                self.expect(":")
                if self.peek().text in ("matrix", "mlp"):
                    kind = self.name()
                    dims = self.shape()
                    opts = self.options() if self.accept("(") else {}
                elif self.peek().text == "kv_cache":
                    kind = self.name()
                    self.expect("(")
                    dims, opts = (), self.options()
                else:
                    kind, dims, opts = "buffer", self.shape(), {}
                init = self.init() if self.accept("=") else None
                lv.states.append(State(sname, kind, dims, opts, init))
            else:
                self.err(f"unknown level item '{item}'")
        return lv

    def parse(self):
        self.expect("model")
        mname = self.name()
        self.expect("(")
        # The header may name hypers declared later: resolve it at the end.
        start = self.i
        depth = 1
        while depth:
            tok = self.next()
            depth += {"(": 1, ")": -1}.get(tok.text, 0)
        header_toks = (start, self.i - 1)
        defaults, params, levels, transfers = {}, {}, [], []
        step_arg, step = None, None
        while self.peek().kind != "eof":
            word = self.name()
            if word == "hyper":
                self.hyper()
            elif word == "defaults":
                self.expect("{")
                defaults = self.key_values("}")
            elif word == "param":
                pname = self.name()
                self.expect(":")
                shape = self.shape()
                init = self.init() if self.accept("=") else None
                params[pname] = Param(pname, shape, init)
            elif word == "level":
                levels.append(self.level())
            elif word == "transfer":
                kind = self.name()
                a = self.name()
                self.expect("->")
                b = self.name()
                reset = self.accept("reset")
                transfers.append((kind, a, b, reset))
            elif word == "step":
                self.expect("(")
                step_arg = self.name()
                self.expect(")")
                self.expect("{")
                depth, step = 1, []
                while True:
                    tok = self.next()
                    depth += {"{": 1, "}": -1}.get(tok.text, 0)
                    if depth == 0:
                        break
                    step.append(tok.text)
            else:
                self.i -= 1
                self.err(f"unknown declaration '{word}'")
        if self.defines:
            raise NLError(f"-D {', '.join(sorted(self.defines))}: the model declares no such "
                          f"hyper-parameter; declared: {', '.join(sorted(self.hypers)) or 'none'}")
        end = self.i
        self.i = header_toks[0]
        header = self.key_values(")")
        self.i = end
        dim, heads = header.get("dim"), header.get("heads", 1)
        if not isinstance(dim, int) or not isinstance(heads, int):
            raise NLError(f"{self.path}: model header: dim = {dim!r}, heads = {heads!r} are not integers")
        for lv in levels:  # a level's own fields win over `defaults`
            lv.rule = {**defaults, **lv.rule}
        return Model(mname, dim, heads, dict(self.hypers), defaults, params, levels, transfers,
                     step_arg, step or [], self.path)


def parse_text(text, path="<nl>", defines=None):
    return _Parser(tokenize(text, path), path, defines).parse()


def parse_file(path, defines=None):
    with open(path) as f:
        return parse_text(f.read(), path, defines)


def parse_defines(items):
    """['name=value', ...] -> {name: value}"""
    out = {}
    for it in items or []:
        if "=" not in it:
            raise NLError(f"-D {it}: expected name=value")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out
