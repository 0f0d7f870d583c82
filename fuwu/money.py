"""Money is an integer of minor units plus an ISO currency code, never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import msgspec

CURRENCIES = {"CNY": ("¥", 2), "USD": ("$", 2), "EUR": ("€", 2), "HKD": ("HK$", 2), "JPY": ("¥", 0)}


class Money(msgspec.Struct, frozen=True):
    amount: int  # minor units (fen for CNY)
    currency: str = "CNY"


def format_money(amount: int, currency: str = "CNY") -> str:
    symbol, places = CURRENCIES.get(currency, (currency + " ", 2))
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if places == 0:
        return f"{sign}{symbol}{amount:,}"
    major, minor = divmod(amount, 10**places)
    return f"{sign}{symbol}{major:,}.{minor:0{places}d}"


# --- amounts people type -------------------------------------------------------------

MAX_MAJOR = Decimal(10) ** 11  # 10^13 minor units in a two-decimal currency: the schemas' limit
_SYMBOLS = sorted({symbol for symbol, _ in CURRENCIES.values()} | {"￥"}, key=len, reverse=True)
_SEPARATORS = str.maketrans("", "", ",，_ \u00a0\u3000")  # thousands separators and spaces people type


class AmountError(ValueError):
    """A typed amount that is not money. `reason` says why, for the caller's message:
    missing, not_a_number, zero, negative, too_large or too_precise (more decimals
    than the currency has)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def places_of(currency: str) -> int:
    """Decimal places of a currency's minor unit (2 for CNY, 0 for JPY)."""
    return CURRENCIES.get(currency, ("", 2))[1]


def parse_amount(text: str | None, currency: str, *, required: bool = False, allow_zero: bool = True) -> int | None:
    """An amount typed in major units ('30,000.50', '¥8.10') as integer minor units,
    exactly (Decimal, never float).

    Thousands separators, spaces and a leading currency symbol are ignored. Empty is
    None, or AmountError("missing") when `required`. Zero is refused unless
    `allow_zero`; negative amounts, more decimals than the currency has and amounts
    beyond the schemas' limit are always refused."""
    cleaned = (text or "").translate(_SEPARATORS).strip()
    for symbol in _SYMBOLS:
        if cleaned.startswith(symbol):
            cleaned = cleaned[len(symbol):]
            break
    if not cleaned:
        if required:
            raise AmountError("missing")
        return None
    if len(cleaned) > 30:
        raise AmountError("not_a_number")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise AmountError("not_a_number") from None
    if not value.is_finite():
        raise AmountError("not_a_number")
    if value < 0:
        raise AmountError("negative")
    if value == 0 and not allow_zero:
        raise AmountError("zero")
    if value > MAX_MAJOR:
        raise AmountError("too_large")
    places = places_of(currency)
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise AmountError("too_precise")
    return int(scaled)


def amount_input(amount: int | None, currency: str) -> str:
    """Minor units as a form field shows them: 3000050 fen -> '30000.50'; None -> ''."""
    if amount is None:
        return ""
    places = places_of(currency)
    return f"{Decimal(int(amount)).scaleb(-places):.{places}f}"
