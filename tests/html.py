"""Reading a page the way a browser does, for the crawler and the page tests: its links,
its visible text, its forms — which form each button submits, what a GET form sends when
submitted untouched, and the forms a browser would drop.

A browser ignores a <form> that starts inside another form (its fields and buttons then
belong to the outer one, and its </form> closes the outer form), so a button whose
``form="…"`` names a nested form, or no form at all, does nothing. ``Page.form_problems()``
lists every such defect of a page (the group page's 重新核对 button was one).
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

NOT_SENT = {"submit", "button", "image", "file", "reset"}  # input types a plain submit omits


class Page(HTMLParser):
    """One page, parsed on construction.

    ``forms``: one dict per <form> in document order — ``id``, ``action``, ``method``
    (lower case), ``parents`` (ids of the forms it starts inside, outermost first; [] for a
    form a browser keeps), ``buttons`` (the text of each <button> and the value of each
    <input type=submit> that submits it: the enclosing form, or the one named by ``form=``)
    and ``fields`` ((name, value) pairs a submit would send untouched: checked boxes only,
    a select's selected or first option). ``nested``: the forms with parents.
    ``links``: every <a href>; ``anchors``: (href, text) of each; ``text``: the visible
    strings (not scripts or styles); ``form_targets``: the ``form="…"`` of buttons and inputs.
    """

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.nested: list[dict] = []
        self.links: list[str] = []
        self.anchors: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.form_targets: list[str] = []
        self._open: list[dict] = []
        self._link: list[str] | None = None  # [href, text so far]
        self._button: list | None = None  # [text so far, form="…" or None, enclosing form]
        self._targeted: list[tuple[str, str]] = []  # (form="…", button text)
        self._select: tuple[dict, str] | None = None  # (form, field name) of an open <select>
        self._select_field: int | None = None  # where its value is in the form's fields
        self._textarea: list | None = None  # [form, name, text so far] of an open <textarea>
        self._hidden = 0
        self.feed(html)
        self.close()
        by_id = {form["id"]: form for form in self.forms if form["id"]}
        for target, text in self._targeted:
            if target in by_id:
                by_id[target]["buttons"].append(text)

    # -- parsing ------------------------------------------------------------------------

    def handle_starttag(self, tag, attrs):
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            form = {
                "id": a.get("id") or None,
                "action": a.get("action"),
                "method": (a.get("method") or "get").lower(),
                "parents": [parent["id"] or "?" for parent in self._open],
                "buttons": [],
                "fields": [],
            }
            if self._open:
                self.nested.append(form)
            self.forms.append(form)
            self._open.append(form)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
            self._link = [a["href"], ""]
        elif tag in ("script", "style"):
            self._hidden += 1
        elif tag == "button":
            if a.get("form"):
                self.form_targets.append(a["form"])
            self._button = ["", a.get("form") or None, self._innermost()]
        elif tag == "input":
            self._input(a)
        elif tag == "select" and a.get("name") and self._innermost() is not None:
            self._select = (self._innermost(), a["name"], "multiple" in a)
            self._select_field = None
        elif tag == "textarea" and a.get("name") and self._innermost() is not None:
            self._textarea = [self._innermost(), a["name"], ""]
        elif tag == "option" and self._select is not None:
            self._option(a)

    def _innermost(self) -> dict | None:
        return self._open[-1] if self._open else None

    def _input(self, a: dict) -> None:
        kind = (a.get("type") or "text").lower()
        if a.get("form"):
            self.form_targets.append(a["form"])
        if kind == "submit":
            self._submits(a.get("value", ""), a.get("form") or None, self._innermost())
        form = self._innermost()
        if form is None or not a.get("name") or kind in NOT_SENT:
            return
        if kind in ("checkbox", "radio") and "checked" not in a:
            return
        form["fields"].append((a["name"], a.get("value", "")))

    def _option(self, a: dict) -> None:
        form, name, multiple = self._select
        field = (name, a.get("value", ""))
        if multiple:  # every selected option, none if none is
            if "selected" in a:
                form["fields"].append(field)
        elif self._select_field is None:  # the first option, unless another is selected
            self._select_field = len(form["fields"])
            form["fields"].append(field)
        elif "selected" in a:
            form["fields"][self._select_field] = field

    def _submits(self, text: str, target: str | None, enclosing: dict | None) -> None:
        if target:
            self._targeted.append((target, text))  # resolved once every form is known
        elif enclosing is not None:
            enclosing["buttons"].append(text)

    def handle_endtag(self, tag):
        if tag == "form" and self._open:
            self._open.pop()
        elif tag == "a" and self._link is not None:
            self.anchors.append((self._link[0], self._link[1].strip()))
            self._link = None
        elif tag in ("script", "style") and self._hidden:
            self._hidden -= 1
        elif tag == "button" and self._button is not None:
            text, target, enclosing = self._button
            self._submits(text.strip(), target, enclosing)
            self._button = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form, name, text = self._textarea
            form["fields"].append((name, text.removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data
        if self._link is not None:
            self._link[1] += data
        if self._button is not None:
            self._button[0] += data
        if not self._hidden and data.strip():
            self.text.append(data.strip())

    # -- questions ----------------------------------------------------------------------

    @property
    def top_forms(self) -> set[str]:
        """Ids of the forms a browser keeps."""
        return {form["id"] for form in self.forms if form["id"] and not form["parents"]}

    def buttons(self) -> list[str]:
        return [text for form in self.forms for text in form["buttons"]]

    def form_with(self, text: str) -> dict:
        """The form the button ``text`` submits."""
        return next(form for form in self.forms if text in form["buttons"])

    def hrefs_to(self, path: str) -> list[tuple[str, str]]:
        """Links to ``path`` with a query (the filtered rows; not the menu's plain link)."""
        return [
            (href, text)
            for href, text in self.anchors
            if urlsplit(href).path == path and urlsplit(href).query
        ]

    def form_problems(self) -> list[str]:
        """What a browser would break: a form inside a form, a form="…" naming a form that
        is missing or nested."""
        problems = [
            f"<form id={form['id'] or '?'} action={form['action']}> starts inside "
            f"<form id={form['parents'][-1]}>"
            for form in self.nested
        ]
        ids = {form["id"] for form in self.forms if form["id"]}
        for target in dict.fromkeys(self.form_targets):
            if target not in ids:
                problems.append(f'form="{target}" names no form on the page')
            elif target not in self.top_forms:
                problems.append(f'form="{target}" names a nested form')
        return problems


def form_data(form: dict) -> dict[str, list[str]]:
    """What submitting ``form`` (one of Page.forms) untouched sends: name -> values."""
    data: dict[str, list[str]] = {}
    for name, value in form["fields"]:
        data.setdefault(name, []).append(value)
    return data


def change_form_data(client, url: str, changes: dict | None = None) -> dict[str, list[str]]:
    """Open an admin change page and read its form as a browser would submit it: every field
    as the page shows it (the row version included: common.admin.RowVersionGuardMixin), with
    ``changes`` (name -> value, or a list for a multiple choice) typed over them."""
    page = Page(client.get(url).content.decode())
    form = next(f for f in page.forms if (f["id"] or "").endswith("_form") and not f["parents"])
    data = form_data(form)
    for name, value in (changes or {}).items():
        data[name] = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    return data


def post_change_form(client, url: str, changes: dict, **kwargs):
    """Open an admin change page and submit its form at once, with ``changes``."""
    return client.post(url, change_form_data(client, url, changes), **kwargs)
