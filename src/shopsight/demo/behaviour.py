"""Browser sessions as Segment calls: landing, sign-in, browsing and the cart, with realistic drop-off."""

from __future__ import annotations

from dataclasses import dataclass, field

from shopsight.demo.catalog import Product, Variant, local_price
from shopsight.demo.customers import Customer, new_uuid
from shopsight.demo.inventory import FULFILMENT
from shopsight.demo.market import Country, Promotion, iso_ms
from shopsight.demo.marketing import Channel
from shopsight.demo.store import DemoStore, Row

SHOP_URL = "https://www.shopsight-demo.example"
LIBRARY = {"name": "analytics.js", "version": "next-1.70.0"}
ECOMMERCE_EVENTS = frozenset(
    {
        "Products Searched",
        "Product List Viewed",
        "Product List Filtered",
        "Promotion Viewed",
        "Promotion Clicked",
        "Product Clicked",
        "Product Viewed",
        "Product Added",
        "Product Removed",
        "Cart Viewed",
        "Checkout Started",
        "Checkout Step Viewed",
        "Checkout Step Completed",
        "Payment Info Entered",
        "Order Completed",
        "Order Updated",
        "Order Refunded",
        "Order Cancelled",
        "Coupon Entered",
        "Coupon Applied",
        "Coupon Denied",
        "Coupon Removed",
        "Product Added to Wishlist",
        "Product Removed from Wishlist",
        "Wishlist Product Added to Cart",
        "Product Shared",
        "Cart Shared",
        "Product Reviewed",
    }
)
# Not part of the e-commerce spec: account lifecycle events every shop tracks.
CUSTOM_EVENTS = frozenset({"Signed Up", "Signed In", "Login Failed", "Profile Updated"})


@dataclass
class Visitor:
    """Who is behind a browser: maybe a known customer, always a device."""

    customer: Customer | None
    market: Country
    anonymous_id: str
    device_id: str
    user_agent: str
    ip: str
    locale: str
    timezone: str
    logged_in: bool

    @classmethod
    def of_customer(cls, customer: Customer, *, logged_in: bool) -> Visitor:
        """A returning customer on their usual device."""
        return cls(
            customer,
            customer.country,
            customer.anonymous_id,
            customer.device_id,
            customer.user_agent,
            customer.ip,
            customer.country.locale,
            customer.city.timezone,
            logged_in,
        )


@dataclass
class CartLine:
    """A variant in the cart at the price shown when it was added."""

    product: Product
    variant: Variant
    quantity: int
    unit_price: float


@dataclass
class Session:
    """One visit: writes Segment calls with a clock that moves forward between them."""

    store: DemoStore
    visitor: Visitor
    clock_ms: int
    channel: Channel
    campaign: str | None
    cart_id: str = ""
    cart: list[CartLine] = field(default_factory=list)
    wishlist: list[Product] = field(default_factory=list)
    page: Row = field(default_factory=dict)
    _context: Row = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = self.visitor
        self.cart_id = new_uuid(self.store.rng)
        self._context = {
            "ip": v.ip,
            "userAgent": v.user_agent,
            "locale": v.locale,
            "timezone": v.timezone,
            "library": LIBRARY,
            "device": {"id": v.device_id},
        }
        if self.campaign:
            self._context["campaign"] = {
                "source": self.channel.source,
                "medium": self.channel.medium,
                "name": self.campaign,
            }

    @property
    def user_id(self) -> str | None:
        """The signed-in customer id, if any."""
        v = self.visitor
        return v.customer.customer_id if v.customer and v.logged_in else None

    @property
    def currency(self) -> str:
        """The currency prices are shown in."""
        return self.visitor.market.currency

    @property
    def location_id(self) -> str:
        """The warehouse that would ship this visitor's order."""
        return FULFILMENT[self.visitor.market.code]

    def wait(self, low_s: float, high_s: float) -> None:
        """Let time pass between two actions."""
        self.clock_ms += int(self.store.rng.uniform(low_s, high_s) * 1000) + 1

    def _call(self, call_type: str) -> Row:
        rng = self.store.rng
        call: Row = {
            "type": call_type,
            "messageId": new_uuid(rng),
            "timestamp": iso_ms(self.clock_ms),
            "sentAt": iso_ms(self.clock_ms + rng.randrange(50, 4000)),
            "anonymousId": self.visitor.anonymous_id,
            "context": {**self._context, "page": self.page},
        }
        if self.user_id:
            call["userId"] = self.user_id
        self.store.emit_event(call)
        return call

    def track(self, event: str, properties: Row) -> None:
        """A track call; the clock moves a few seconds afterwards."""
        call = self._call("track")
        call["event"] = event
        call["properties"] = properties
        self.wait(2, 25)

    def visit_page(
        self, name: str, path: str, title: str, *, category: str | None = None, search: str = ""
    ) -> None:
        """A page call for a new page; later calls carry it in ``context.page``."""
        referrer = self.page.get("url") if self.page else (self.channel.referrer or "")
        search = search or (_utm_query(self.channel, self.campaign) if not self.page else "")
        self.page = {
            "path": path,
            "referrer": referrer,
            "url": f"{SHOP_URL}{path}{search}",
            "title": title,
            "search": search,
        }
        call = self._call("page")
        call["name"] = name
        call["properties"] = {**self.page, "category": category} if category else dict(self.page)
        self.wait(3, 40)

    def identify(self, traits: Row) -> None:
        """An identify call linking this device's anonymousId to the signed-in customer."""
        call = self._call("identify")
        call["traits"] = traits
        self.wait(1, 3)


def _utm_query(channel: Channel, campaign: str | None) -> str:
    if not campaign:
        return ""
    return f"?utm_source={channel.source}&utm_medium={channel.medium}&utm_campaign={campaign}"


def product_properties(
    session: Session,
    product: Product,
    variant: Variant | None = None,
    *,
    quantity: int | None = None,
    position: int | None = None,
) -> Row:
    """Segment V2 product properties in the visitor's currency."""
    chosen = variant or product.variants[0]
    price = unit_price(session, product, chosen)
    properties: Row = {
        "product_id": product.product_id,
        "sku": chosen.sku,
        "category": product.leaf.name,
        "name": product.title,
        "brand": product.brand,
        "price": price,
        "currency": session.currency,
        "url": f"{SHOP_URL}/products/{product.product_id}",
        "image_url": f"{SHOP_URL}/images/{product.product_id}.jpg",
    }
    if variant is not None:
        properties["variant"] = variant.title
    if quantity is not None:
        properties["quantity"] = quantity
    if position is not None:
        properties["position"] = position
    return properties


def unit_price(session: Session, product: Product, variant: Variant) -> float:
    """Today's shelf price of a variant in the visitor's market."""
    usd = product.price_on(session.store.today.index) * variant.price_factor
    return local_price(usd, session.visitor.market)


def available_variants(session: Session, product: Product) -> list[Variant]:
    """Variants with stock at the warehouse serving the visitor."""
    stock, location = session.store.stock, session.location_id
    return [v for v in product.variants if stock.available(v.variant_id, location) > 0]


def land(session: Session) -> None:
    """The first page of a visit: the home page or a category page from an ad."""
    if session.campaign and session.store.rng.random() < 0.5:
        session.visit_page("Category", "/collections/featured", "Featured")
    else:
        session.visit_page("Home", "/", "ShopSight Demo Store")


def sign_in(session: Session, *, failures: int = 0, email: str | None = None) -> None:
    """Log in (after ``failures`` wrong passwords) and identify the customer."""
    customer = session.visitor.customer
    assert customer is not None
    session.visit_page("Login", "/account/login", "Log in")
    for attempt in range(1, failures + 1):
        session.track(
            "Login Failed",
            {"email": email or customer.email, "reason": "invalid_password", "attempt": attempt},
        )
    session.visitor.logged_in = True
    session.identify(customer.traits())
    session.track("Signed In", {"method": "password"})


def sign_up(session: Session) -> Customer:
    """Create an account for an anonymous visitor; the customer row is emitted today."""
    store, visitor = session.store, session.visitor
    customer = store.factory.create(
        rng=store.rng,
        country=visitor.market,
        created_ms=session.clock_ms,
        created_day=store.today.index,
        new=True,
        signup_source=session.channel.name,
    )
    customer.anonymous_id, customer.device_id = visitor.anonymous_id, visitor.device_id
    customer.user_agent, customer.ip = visitor.user_agent, visitor.ip
    store.customers.add(customer)
    store.emit_row("customer", customer.to_row())
    visitor.customer, visitor.logged_in = customer, True
    session.visit_page("Sign Up", "/account/register", "Create account")
    session.identify(customer.traits())
    session.track("Signed Up", {"method": "email", "accepts_marketing": customer.accepts_marketing})
    return customer


def show_promotion(session: Session, promotion: Promotion) -> None:
    """The sale banner, sometimes clicked."""
    banner = {
        "promotion_id": promotion.promotion_id,
        "creative": "hero_banner",
        "name": promotion.name,
        "position": "home_top",
    }
    session.track("Promotion Viewed", banner)
    if session.store.rng.random() < 0.3:
        session.track("Promotion Clicked", banner)


def discover(session: Session, leaf_index: int, product: Product) -> None:
    """How the visitor finds a product: a search or a category list (sometimes filtered), then a click."""
    rng, leaf = session.store.rng, product.leaf
    if rng.random() < 0.3:
        query = product.title.split()[-1].lower()
        session.track("Products Searched", {"query": query})
        session.visit_page("Search", "/search", f"Search: {query}", search=f"?q={query}")
        return
    session.visit_page("Category", f"/collections/{leaf.code.lower()}", leaf.path[-1], category=leaf.name)
    listing = session.store.catalog.by_leaf[leaf_index][:4]
    products = [product_properties(session, p, position=i + 1) for i, p in enumerate(listing)]
    list_id = f"list_{leaf.code.lower()}"
    session.track("Product List Viewed", {"list_id": list_id, "category": leaf.name, "products": products})
    if rng.random() < 0.15:
        session.track(
            "Product List Filtered",
            {
                "list_id": list_id,
                "category": leaf.name,
                "products": products,
                "filters": [{"type": "price", "value": "under-100"}],
                "sorts": [{"type": "price", "value": "asc"}],
            },
        )
    session.track("Product Clicked", product_properties(session, product, position=1 + rng.randrange(4)))


def view_product(session: Session, product: Product) -> list[Variant]:
    """The product page; returns the variants that can be bought right now."""
    in_stock = available_variants(session, product)
    session.visit_page(
        "Product", f"/products/{product.product_id}", product.title, category=product.leaf.name
    )
    session.track("Product Viewed", {**product_properties(session, product), "in_stock": bool(in_stock)})
    return in_stock


def add_to_cart(
    session: Session, product: Product, variant: Variant, quantity: int, event: str = "Product Added"
) -> None:
    """Put a variant in the cart (or add to its quantity)."""
    for line in session.cart:
        if line.variant.variant_id == variant.variant_id:
            line.quantity += quantity
            break
    else:
        session.cart.append(CartLine(product, variant, quantity, unit_price(session, product, variant)))
    properties = {
        "cart_id": session.cart_id,
        **product_properties(session, product, variant, quantity=quantity),
    }
    if event == "Wishlist Product Added to Cart":
        properties["wishlist_id"] = f"wl_{session.visitor.anonymous_id[:8]}"
    session.track(event, properties)


def cart_products(session: Session) -> list[Row]:
    """The cart as Segment ``products``."""
    return [
        product_properties(session, line.product, line.variant, quantity=line.quantity, position=i + 1)
        for i, line in enumerate(session.cart)
    ]


def tidy_cart(session: Session) -> None:
    """After browsing: sometimes remove something, often look at the cart, rarely share it."""
    rng = session.store.rng
    if len(session.cart) > 1 and rng.random() < 0.12:
        line = session.cart.pop()
        session.track(
            "Product Removed",
            {
                "cart_id": session.cart_id,
                **product_properties(session, line.product, line.variant, quantity=line.quantity),
            },
        )
    if rng.random() < 0.6:
        session.visit_page("Cart", "/cart", "Your cart")
        session.track("Cart Viewed", {"cart_id": session.cart_id, "products": cart_products(session)})
        if rng.random() < 0.01:
            session.track(
                "Cart Shared",
                {
                    "cart_id": session.cart_id,
                    "share_via": "email",
                    "products": [{"product_id": line.product.product_id} for line in session.cart],
                },
            )


def wishlist_or_share(session: Session, product: Product) -> None:
    """Small side actions on a product page that recommendations can learn from."""
    rng = session.store.rng
    wishlist = {"wishlist_id": f"wl_{session.visitor.anonymous_id[:8]}", "wishlist_name": "My Wishlist"}
    roll = rng.random()
    if roll < 0.05:
        session.track("Product Added to Wishlist", {**wishlist, **product_properties(session, product)})
        session.wishlist.append(product)
    elif roll < 0.06 and session.wishlist:
        removed = session.wishlist.pop(0)
        session.track("Product Removed from Wishlist", {**wishlist, **product_properties(session, removed)})
    elif roll < 0.07:
        session.track(
            "Product Shared",
            {
                "share_via": rng.choice(("email", "facebook", "whatsapp")),
                **product_properties(session, product),
            },
        )
    if session.wishlist and rng.random() < 0.1:
        wished = session.wishlist.pop()
        variants = available_variants(session, wished)
        if variants:
            add_to_cart(session, wished, variants[0], 1, "Wishlist Product Added to Cart")
