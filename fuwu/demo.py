"""Demo data drawn from the market cases in DESIGN.md, loaded by `fuwu demo`.

Each domain loads its own demo data (`Domain.demo`), in domain order; `fuwu demo`
runs them all. Idempotent: each loader finds its data and changes nothing. Passwords
are printed so a newcomer can log in.
"""

from __future__ import annotations

from collections.abc import Callable

from fuwu import roles
from fuwu.schemas import OrganisationCreate
from fuwu.services import accounts
from fuwu.tables import User
from fuwu.wiring import wiring

DEMO_PASSWORD = "fuwu-demo-2026"

MERCHANTS = [
    {
        "email": "owner@lanfei-fashion.demo", "name": "Chen Jing (陈静)",
        "org": OrganisationCreate(kind="merchant", name="Lanfei Fashion 岚菲服饰", size="key_account",
                                  province="Zhejiang", city="Hangzhou"),
        "team": [("operator@lanfei-fashion.demo", "Wu Lei (吴磊)", roles.OPERATOR),
                 ("evaluator@lanfei-fashion.demo", "Zhou Min (周敏)", roles.EVALUATOR)],
    },
    {
        "email": "owner@xiangwei-foods.demo", "name": "Li Qiang (李强)",
        "org": OrganisationCreate(kind="merchant", name="Xiangwei Foods 湘味食品", size="medium",
                                  province="Hunan", city="Changsha"),
        "team": [],
    },
    {
        "email": "owner@yiran-womenswear.demo", "name": "Huang Yi (黄怡)",
        "org": OrganisationCreate(kind="merchant", name="Yiran Womenswear 怡然女装", size="small",
                                  province="Guangdong", city="Guangzhou"),
        "team": [],
    },
]

PROVIDERS = [
    {
        "email": "owner@xingchen-cs.demo", "name": "Zhang Wei (张伟)",
        "org": OrganisationCreate(
            kind="provider", name="Xingchen Customer Service 星辰客服", province="Zhejiang", city="Hangzhou",
            categories=["cs_presales", "cs_postsales"],
            profile="Pre-sales and post-sales customer-service outsourcing for apparel and beauty shops: 120 "
                    "trained agents, 09:00–24:00 coverage, first response under 25 s.",
        ),
        "team": [("manager@xingchen-cs.demo", "Liu Yang (刘洋)", roles.MANAGER),
                 ("agent1@xingchen-cs.demo", "Sun Li (孙丽)", roles.AGENT),
                 ("agent2@xingchen-cs.demo", "Ma Jun (马俊)", roles.AGENT)],
    },
    {
        "email": "owner@yunduan-cs.demo", "name": "Gao Fei (高飞)",
        "org": OrganisationCreate(
            kind="provider", name="Yunduan Service Outsourcing 云端外包", province="Jiangsu", city="Suzhou",
            categories=["cs_presales"],
            profile="Night and weekend pre-sales seats for mid-size shops; bilingual agents.",
        ),
        "team": [("agent@yunduan-cs.demo", "He Ping (何平)", roles.AGENT)],
    },
    {
        "email": "owner@mobai-design.demo", "name": "Lin Xue (林雪)",
        "org": OrganisationCreate(
            kind="provider", name="Mobai Design Studio 墨白设计", province="Shanghai", city="Shanghai",
            categories=["design", "video"],
            profile="Store home pages, detail pages and campaign banners for food and FMCG brands.",
        ),
        "team": [],
    },
    {
        "email": "owner@guangying-photo.demo", "name": "Xu Tao (徐涛)",
        "org": OrganisationCreate(
            kind="provider", name="Guangying Photography 光影摄影", province="Guangdong", city="Guangzhou",
            categories=["photography", "video"],
            profile="On-model and flat-lay apparel photography; studio in Baiyun, 200 SKUs a week.",
        ),
        "team": [],
    },
]

ADMIN = ("admin@fuwu.demo", "Platform Admin (平台管理员)")


async def load(echo: Callable[[str], None] = print) -> None:
    """The shell's demo: the organisations, their teams and the platform admin."""
    if await User.exists().where(User.email == MERCHANTS[0]["email"]):
        return
    people: dict[str, dict] = {}
    steps = len(MERCHANTS) + len(PROVIDERS) + 1
    for number, entry in enumerate([*MERCHANTS, *PROVIDERS], start=1):
        echo(f"[{number}/{steps}] {entry['org'].name}")
        await _ensure_org(entry, people)
    echo(f"[{steps}/{steps}] platform admin")
    await accounts.create_admin(ADMIN[0], DEMO_PASSWORD, ADMIN[1])


async def load_demo(echo: Callable[[str], None] = print) -> None:
    """Every domain's demo, in domain order (each loader skips what is there), then
    the log-ins."""
    for name, loader in wiring().demo_loaders():
        echo(f"Demo data: {name}")
        await loader(echo)
    echo("")
    echo(f"Log in at http://127.0.0.1:8000/login — every demo password is: {DEMO_PASSWORD}")
    for entry in [*MERCHANTS, *PROVIDERS]:
        echo(f"  {entry['email']:<34} owner of {entry['org'].name}")
        for email, _, role in entry["team"]:
            echo(f"  {email:<34} {role}")
    echo(f"  {ADMIN[0]:<34} platform admin")


async def _ensure_org(entry: dict, people: dict) -> None:
    user = await User.select(User.id).where(User.email == entry["email"]).first()
    if user is None:
        created, org = await accounts.sign_up(entry["email"], DEMO_PASSWORD, entry["name"], "zh_Hans", entry["org"])
        owner = accounts.Viewer(user_id=created["id"], email=entry["email"], display_name=entry["name"],
                                locale="zh_Hans", timezone="Asia/Shanghai", via="session")
        member = await accounts.membership(created["id"], org["id"])
        for email, name, role in entry["team"]:
            invitation = await accounts.invite(owner, member, email, role)
            token = invitation["accept_url"].rsplit("/", 1)[1]
            teammate, _ = await _sign_up_teammate(email, name)
            viewer = accounts.Viewer(user_id=teammate["id"], email=email, display_name=name, locale="zh_Hans",
                                     timezone="Asia/Shanghai", via="session")
            await accounts.accept_invitation(viewer, token)
        people[entry["email"]] = {"user": created, "org": org}


async def _sign_up_teammate(email: str, name: str):
    """Teammates get a user without an organisation of their own."""
    from fuwu.db import atomic
    from fuwu.security import hash_password

    async with atomic():
        row = User(email=email, display_name=name, password_hash=hash_password(DEMO_PASSWORD), locale="zh_Hans")
        await row.save()
    return {"id": row.id}, None
