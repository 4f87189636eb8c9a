"""A bare Flask "hello" route: the baseline the portal's pages are measured against."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
