"""Pages for everyone, signed in or not: home, the published lists with their entries and
downloads, the signature-product library (标志性产品库) with its search. The public routes
call publication without a token: what they show is what anyone may read."""

from __future__ import annotations

import json
from importlib import resources
from urllib.parse import urlencode

from flask import Flask, current_app, render_template, request

from services.console.pages.common import PUBLIC_PAGES, ROLE_PAGES, fetch, passthrough, path_of

# The library's search, as publication's PRODUCTS_QUERY names it.
SEARCH = ("name", "year", "domain", "type", "province", "page", "per_page")
PER_PAGE = 20


def _choices() -> tuple[list[str], list[str]]:
    """The domains and types of 382号 as shipped, offered as suggestions (the search takes any text:
    a call may name others)."""
    shipped = json.loads(resources.files("shared.domain").joinpath("calls/signature_product_2024_382.json")
                         .read_text("utf-8"))
    section = shipped["signature_product"]
    return [d["name"] for d in section["domains"]], [t["name"] for t in section["types"]]


DOMAINS, TYPES = _choices()


def register(app: Flask) -> None:
    @app.get("/")
    def home():
        caller = current_app.config["CALLER"]()
        links = (ROLE_PAGES.get(caller.role, ()) if caller else ()) + PUBLIC_PAGES
        return render_template("home.html", links=links)

    @app.get("/public")
    def public():
        answer = fetch("publication", "/lists")
        return render_template("public.html", answer=answer, rows=answer.data if answer.ok else None)

    @app.get("/public/lists/<list_id>")
    def public_list(list_id: str):
        answer = fetch("publication", path_of("lists", list_id))
        page = render_template("public/list.html", answer=answer, document=answer.data if answer.ok else None,
                               list_id=list_id)
        return page, answer.status if answer.status >= 400 else 200

    @app.get("/public/lists/<list_id>/entries.<fmt>")
    def public_list_download(list_id: str, fmt: str):
        if fmt not in ("csv", "xlsx"):
            return current_app.config["MESSAGE_PAGE"]("error.not_found", 404)
        return passthrough("publication", path_of("lists", list_id, f"entries.{fmt}"))

    @app.get("/products")
    def products():
        search = {k: request.args[k].strip() for k in SEARCH if request.args.get(k, "").strip()}
        answer = fetch("publication", "/products", params=search)
        found = answer.data if answer.ok else None
        pages = 0
        if found:
            pages = max(1, -(-found["total"] // found["per_page"]))

        def page_link(n: int) -> str:
            return "?" + urlencode({**search, "page": str(n)})

        return render_template("public/products.html", answer=answer, found=found, search=search, pages=pages,
                               page_link=page_link, domains=DOMAINS, types=TYPES)

    @app.get("/products/<case_id>")
    def product(case_id: str):
        answer = fetch("publication", path_of("products", case_id))
        page = render_template("public/product.html", answer=answer, product=answer.data if answer.ok else None)
        return page, answer.status if answer.status >= 400 else 200
