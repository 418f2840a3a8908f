"""FastAPI JSON endpoint: a path and a query parameter, a pydantic model.

GET /items/{item_id}?q=... answers the item as JSON; FastAPI validates both
parameters and the response against the model, as a real endpoint does.
"""
from typing import List, Optional

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    id: int
    name: str
    q: Optional[str] = None
    tags: List[str] = []


@app.get("/items/{item_id}", response_model=Item)
async def read_item(item_id: int, q: Optional[str] = None):
    return Item(id=item_id, name="item %d" % item_id, q=q, tags=["a", "b"])


application = app
