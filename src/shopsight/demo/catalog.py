"""The demo catalog: a category tree, brands, products with variants, Zipf popularity and price changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate
from random import Random
from typing import Any

from shopsight.demo.market import Country


@dataclass(frozen=True)
class Leaf:
    """A leaf category: what it sells, at which prices and margins, and its variant axis."""

    path: tuple[str, ...]
    code: str
    nouns: tuple[str, ...]
    price_range: tuple[float, float]
    margin: float
    axis: tuple[str, tuple[str, ...]] | None
    refund_rate: float

    @property
    def top(self) -> str:
        """The top-level category (promotions may target it)."""
        return self.path[0]

    @property
    def name(self) -> str:
        """Segment's ``category`` property: the path joined with slashes."""
        return "/".join(self.path)


_SIZES = ("size", ("XS", "S", "M", "L", "XL"))
_SHOES = ("size", ("39", "40", "41", "42", "43", "44"))
LEAVES: tuple[Leaf, ...] = (
    Leaf(
        ("Apparel", "Men", "T-Shirts"),
        "TS",
        ("Crew Tee", "Pocket Tee", "Henley"),
        (15, 45),
        0.55,
        _SIZES,
        0.12,
    ),
    Leaf(
        ("Apparel", "Men", "Jeans"),
        "JN",
        ("Slim Jeans", "Straight Jeans", "Chinos"),
        (40, 120),
        0.5,
        ("waist", ("30", "32", "34", "36")),
        0.14,
    ),
    Leaf(
        ("Apparel", "Women", "Dresses"),
        "DR",
        ("Wrap Dress", "Midi Dress", "Shirt Dress"),
        (35, 160),
        0.55,
        _SIZES,
        0.16,
    ),
    Leaf(("Apparel", "Women", "Tops"), "TP", ("Blouse", "Knit Top", "Tank"), (20, 70), 0.55, _SIZES, 0.12),
    Leaf(
        ("Footwear", "Sneakers"),
        "SN",
        ("Runner", "Court Sneaker", "Trail Shoe"),
        (55, 180),
        0.45,
        _SHOES,
        0.10,
    ),
    Leaf(("Footwear", "Boots"), "BT", ("Chelsea Boot", "Hiking Boot"), (80, 240), 0.45, _SHOES, 0.09),
    Leaf(
        ("Home", "Kitchen", "Cookware"),
        "CK",
        ("Frying Pan", "Saucepan", "Dutch Oven", "Knife Set"),
        (20, 220),
        0.4,
        None,
        0.04,
    ),
    Leaf(
        ("Home", "Kitchen", "Coffee"),
        "CF",
        ("Pour-Over Kit", "Espresso Cups", "Burr Grinder"),
        (15, 180),
        0.4,
        None,
        0.05,
    ),
    Leaf(
        ("Home", "Decor", "Lighting"),
        "LT",
        ("Table Lamp", "Floor Lamp", "Pendant Light"),
        (30, 260),
        0.5,
        ("color", ("Black", "Brass", "White")),
        0.06,
    ),
    Leaf(
        ("Home", "Bedding"),
        "BD",
        ("Duvet Cover", "Sheet Set", "Pillow"),
        (25, 190),
        0.55,
        ("size", ("Single", "Double", "King")),
        0.07,
    ),
    Leaf(
        ("Electronics", "Audio", "Headphones"),
        "HP",
        ("Wireless Headphones", "Earbuds", "Studio Headphones"),
        (40, 420),
        0.3,
        ("color", ("Black", "Silver", "Blue")),
        0.06,
    ),
    Leaf(
        ("Electronics", "Audio", "Speakers"),
        "SP",
        ("Bluetooth Speaker", "Soundbar"),
        (50, 500),
        0.3,
        ("color", ("Black", "Grey")),
        0.05,
    ),
    Leaf(
        ("Electronics", "Wearables", "Smartwatches"),
        "SW",
        ("Smartwatch", "Fitness Band"),
        (90, 550),
        0.28,
        ("color", ("Black", "Silver", "Rose")),
        0.07,
    ),
    Leaf(
        ("Electronics", "Accessories", "Chargers"),
        "CH",
        ("USB-C Charger", "Power Bank", "Cable Pack"),
        (12, 90),
        0.5,
        None,
        0.03,
    ),
    Leaf(
        ("Beauty", "Skincare"),
        "SK",
        ("Moisturizer", "Serum", "Cleanser"),
        (12, 85),
        0.65,
        ("size", ("50ml", "100ml")),
        0.04,
    ),
    Leaf(
        ("Beauty", "Fragrance"),
        "FR",
        ("Eau de Parfum", "Eau de Toilette"),
        (45, 160),
        0.6,
        ("size", ("30ml", "50ml", "100ml")),
        0.03,
    ),
    Leaf(
        ("Sports", "Yoga"),
        "YG",
        ("Yoga Mat", "Yoga Block", "Yoga Strap"),
        (15, 95),
        0.55,
        ("color", ("Sage", "Charcoal", "Plum")),
        0.05,
    ),
    Leaf(
        ("Sports", "Running"),
        "RN",
        ("Running Vest", "Hydration Belt", "Running Cap"),
        (15, 110),
        0.5,
        None,
        0.06,
    ),
)
BRANDS = {
    "Apparel": ("Northwind", "Urban Thread", "Kestrel & Co", "Loom Theory"),
    "Footwear": ("Stride Lab", "Kestrel & Co", "Trailmark"),
    "Home": ("Hearth & Oak", "Copperline", "Nordhaus"),
    "Electronics": ("Voltara", "Sonique", "Pulse Labs"),
    "Beauty": ("Luma Skin", "Verdant", "Maison Elle"),
    "Sports": ("Trailmark", "Flowform", "Pacer"),
}
MATERIALS = {
    "Apparel": ("organic cotton", "linen", "denim", "merino"),
    "Footwear": ("leather", "mesh", "suede"),
    "Home": ("stainless steel", "oak", "ceramic", "cotton percale"),
    "Electronics": ("aluminium", "recycled plastic"),
    "Beauty": ("vegan formula", "fragrance-free"),
    "Sports": ("natural rubber", "recycled polyester"),
}
ADJECTIVES = (
    "Classic",
    "Essential",
    "Premium",
    "Everyday",
    "Organic",
    "Pro",
    "Lightweight",
    "Heritage",
    "Eco",
    "Signature",
    "Studio",
    "Urban",
)


@dataclass
class Variant:
    """One purchasable option of a product (a size or a colour)."""

    variant_id: str
    sku: str
    title: str
    attributes: dict[str, str]
    price_factor: float


@dataclass
class Product:
    """A catalog product; prices are in USD and change over time."""

    product_id: str
    sku: str
    title: str
    brand: str
    leaf: Leaf
    attributes: dict[str, Any]
    base_price: float
    cost: float
    variants: list[Variant]
    created_at: str
    active: bool
    popularity: float
    quality: float
    supplier_id: str = ""
    price_changes: list[tuple[int, float]] = field(default_factory=list)

    def price_on(self, day_index: int) -> float:
        """USD list price on a day of the simulation (after any price changes before it)."""
        price = self.base_price
        for change_day, factor in self.price_changes:
            if change_day <= day_index:
                price = round(price * factor, 2)
        return price

    def to_row(self) -> dict[str, Any]:
        """The ``product`` entity row."""
        return {
            "product_id": self.product_id,
            "sku": self.sku,
            "title": self.title,
            "description": _description(self),
            "brand": self.brand,
            "category_path": list(self.leaf.path),
            "attributes": self.attributes,
            "price": self.base_price,
            "cost": self.cost,
            "currency": "USD",
            "variants": [
                {
                    "variant_id": v.variant_id,
                    "sku": v.sku,
                    "title": v.title,
                    "attributes": v.attributes,
                    "price": round(self.base_price * v.price_factor, 2),
                    "cost": round(self.cost * v.price_factor, 2),
                }
                for v in self.variants
            ],
            "created_at": self.created_at,
            "active": self.active,
        }


def _description(product: Product) -> str:
    material = product.attributes.get("material", "quality materials")
    return (
        f"The {product.title} by {product.brand}, made from {material}. "
        f"A {product.leaf.path[-1].lower()} favourite, built to last."
    )


def local_price(usd: float, country: Country) -> float:
    """A USD price in the country's currency, rounded to a .99 shelf price above 10."""
    amount = usd * country.per_usd
    return round(round(amount) - 0.01, 2) if amount >= 10 else round(amount, 2)


class Catalog:
    """Products by leaf category with popularity-weighted picking."""

    def __init__(self, products: list[Product]) -> None:
        self.products = products
        self.by_id = {p.product_id: p for p in products}
        self.by_leaf: list[list[Product]] = [[] for _ in LEAVES]
        for product in products:
            if product.active:
                self.by_leaf[LEAVES.index(product.leaf)].append(product)
        self._leaf_cum = [list(accumulate(p.popularity for p in group)) for group in self.by_leaf]
        leaf_weights = [cum[-1] if cum else 0.0 for cum in self._leaf_cum]
        self.leaf_cum = list(accumulate(leaf_weights))

    def pick_leaf(self, rng: Random) -> int:
        """A leaf category index, weighted by the popularity of what it sells."""
        return rng.choices(range(len(LEAVES)), cum_weights=self.leaf_cum)[0]

    def pick_product(self, leaf_index: int, rng: Random) -> Product:
        """A product of the leaf, Zipf-weighted so a few best sellers dominate."""
        group = self.by_leaf[leaf_index]
        if not group:
            return self.pick_product(self.pick_leaf(rng), rng)
        return rng.choices(group, cum_weights=self._leaf_cum[leaf_index])[0]

    def most_expensive(self, top: str, count: int) -> list[Product]:
        """The priciest active products of a top category (what fraudsters go for)."""
        pool = [p for group in self.by_leaf for p in group if p.leaf.top == top]
        return sorted(pool, key=lambda p: (-p.base_price, p.product_id))[:count]


def build_catalog(rng: Random, *, product_count: int, days: int, created_before: str) -> Catalog:
    """A catalog of ``product_count`` products across every leaf, with long-tail popularity."""
    ranks = list(range(product_count))
    rng.shuffle(ranks)
    products = [
        _product(i, LEAVES[i % len(LEAVES)], ranks[i], rng, days, created_before)
        for i in range(product_count)
    ]
    return Catalog(products)


def _product(index: int, leaf: Leaf, rank: int, rng: Random, days: int, created_before: str) -> Product:
    top = leaf.top
    brand = rng.choice(BRANDS[top])
    title = f"{rng.choice(ADJECTIVES)} {rng.choice(leaf.nouns)}"
    low, high = leaf.price_range
    price = round(round(low + (high - low) * rng.random() ** 1.6) - 0.01, 2)
    product_id = f"prod_{index + 1:05d}"
    sku = f"{leaf.code}-{index + 1:05d}"
    return Product(
        product_id=product_id,
        sku=sku,
        title=title,
        brand=brand,
        leaf=leaf,
        attributes={
            "material": rng.choice(MATERIALS[top]),
            "origin": rng.choice(("PT", "VN", "CN", "DE", "US")),
        },
        base_price=price,
        cost=round(price * (1 - leaf.margin) * rng.uniform(0.9, 1.1), 2),
        variants=_variants(product_id, sku, title, leaf, rng),
        created_at=created_before,
        active=rng.random() > 0.03,
        popularity=1.0 / (rank + 1) ** 1.07,
        quality=min(4.9, max(2.2, rng.gauss(4.1, 0.5))),
        price_changes=_price_changes(rng, days),
    )


def _variants(product_id: str, sku: str, title: str, leaf: Leaf, rng: Random) -> list[Variant]:
    if leaf.axis is None:
        return [Variant(f"{product_id}-v1", sku, title, {}, 1.0)]
    axis, values = leaf.axis
    keep = max(2, len(values) - rng.randrange(2))
    chosen = values[:keep]
    return [
        Variant(
            f"{product_id}-v{n + 1}",
            f"{sku}-{value.upper()}",
            f"{title} - {value}",
            {axis: value},
            1.0 + (0.1 * n if axis == "size" and value.endswith("ml") else 0.0),
        )
        for n, value in enumerate(chosen)
    ]


def _price_changes(rng: Random, days: int) -> list[tuple[int, float]]:
    """Zero to two permanent price changes: mostly small increases, sometimes markdowns."""
    changes = []
    for _ in range(rng.choices((0, 1, 2), weights=(5, 4, 1))[0]):
        factor = rng.uniform(1.03, 1.12) if rng.random() < 0.6 else rng.uniform(0.8, 0.95)
        changes.append((rng.randrange(1, max(2, days)), factor))
    return sorted(changes)
