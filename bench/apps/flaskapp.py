"""Flask JSON endpoint."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return jsonify(message="Hello, World!", items=list(range(10)))


application = app
