"""Money is an integer of minor units plus an ISO currency code, never a float."""

from __future__ import annotations

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
