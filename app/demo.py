"""A realistic demo dataset: a firm of a dozen people, about 60 projects over a year.

Loading is idempotent: users and projects that already exist are kept, and
work logs are generated only for a project that has none yet. The random
generator is seeded, so every load produces the same data.
"""

import datetime as dt
import random
import sys
from decimal import Decimal

from sqlalchemy import func, select

from app.accounts import create_user
from app.db import Database
from app.models import Membership, Phase, Project, User, WorkLog

DEMO_PASSWORD = "track-demo-2026"

# username, display name, role, time zone
PEOPLE = [
    ("admin", "Office Admin", "admin", "Europe/Berlin"),
    ("mara", "Mara Lindqvist", "manager", "Europe/Berlin"),
    ("tom", "Tomás Ferreira", "manager", "Europe/Lisbon"),
    ("emma", "Emma Schulz", "engineer", "Europe/Berlin"),
    ("jonas", "Jonas Weber", "engineer", "Europe/Berlin"),
    ("lea", "Lea Hoffmann", "engineer", "Europe/Berlin"),
    ("noah", "Noah Becker", "engineer", "Europe/Vienna"),
    ("sofia", "Sofia Rossi", "engineer", "Europe/Rome"),
    ("liam", "Liam O'Connor", "engineer", "Europe/Dublin"),
    ("mia", "Mia Novak", "engineer", "Europe/Prague"),
    ("ben", "Ben Keller", "engineer", "Europe/Zurich"),
    ("ida", "Ida Jensen", "engineer", "Europe/Copenhagen"),
    ("omar", "Omar Haddad", "engineer", "Europe/Berlin"),
]

PHASE_SETS = [
    ["Concept", "Preliminary Design", "Structural Design", "Permit Planning", "Site Supervision"],
    ["Survey", "Design Development", "Construction Documents", "Tendering"],
    ["Feasibility", "Structural Analysis", "Detailing", "Review"],
    ["Inventory", "Renovation Design", "Execution Planning"],
]
KINDS = [
    "Residential Block",
    "Office Tower",
    "School Extension",
    "Bridge Refurbishment",
    "Warehouse",
    "Clinic",
    "Library",
    "Sports Hall",
    "Parking Deck",
    "Town Hall Renovation",
    "Kindergarten",
    "Laboratory",
]
PLACES = [
    "Riverside",
    "Hillcrest",
    "Old Town",
    "Harbour",
    "North Park",
    "Lakeside",
    "Market Square",
    "Station Quarter",
    "West End",
    "Mill Lane",
]
CLIENTS = [
    "City of Westhaven",
    "Nordbau GmbH",
    "Helios Housing",
    "St. Anne's Trust",
    "Brightline Logistics",
    "Private client",
]
TASKS = [
    "Load calculations for the upper floors",
    "Coordination meeting with the client",
    "Revised the floor plans after review",
    "Checked reinforcement drawings",
    "Site visit and photo documentation",
    "Prepared permit documents",
    "Detailing of connections",
    "Quantity take-off",
    "Answered contractor questions",
    "Updated the 3D model",
]


def _say(enabled: bool, text: str) -> None:
    if enabled:
        print(text, file=sys.stderr, flush=True)


async def _ensure_users(database: Database, progress: bool) -> dict[str, User]:
    users = {}
    for username, name, role, zone in PEOPLE:
        async with database.read() as db:
            user = await db.scalar(select(User).where(User.username == username))
        if user is None:
            user = await create_user(
                database,
                username=username,
                role=role,
                password=DEMO_PASSWORD,
                display_name=name,
                timezone=zone,
            )
        users[username] = user
    _say(progress, f"  users: {len(users)}")
    return users


def _project_specs(rng: random.Random) -> list[dict]:
    specs = [
        {
            "name": "Villa Design",
            "code": "VD-01",
            "client": "Private client",
            "phases": PHASE_SETS[0],
            "status": "active",
            "members": ["emma", "jonas", "lea", "mara"],
        },
        {
            "name": "Villa Extension",
            "code": "VE-02",
            "client": "Private client",
            "phases": [],
            "status": "active",
            "members": ["emma", "jonas"],
        },
    ]
    engineers = [p[0] for p in PEOPLE if p[2] == "engineer"]
    statuses = ["active"] * 7 + ["on_hold", "completed", "archived"]
    names = set()
    while len(specs) < 60:
        name = f"{rng.choice(PLACES)} {rng.choice(KINDS)}"
        if name in names:
            continue
        names.add(name)
        specs.append(
            {
                "name": name,
                "code": f"P-{len(specs) + 100}",
                "client": rng.choice(CLIENTS),
                "phases": rng.choice(PHASE_SETS),
                "status": rng.choice(statuses),
                "members": rng.sample(engineers, rng.randint(2, 5)),
            }
        )
    return specs


async def _ensure_project(database: Database, spec: dict, users: dict, rng: random.Random):
    async with database.write() as db:
        project = await db.scalar(select(Project).where(Project.name == spec["name"]))
        if project is not None:
            return project, False
        phase_hours = [Decimal(rng.randrange(40, 400, 10)) for _ in spec["phases"]]
        project = Project(
            name=spec["name"],
            code=spec["code"],
            client=spec["client"],
            status=spec["status"],
            description=f"{spec['name']} for {spec['client']}.",
            planned_hours=sum(phase_hours, Decimal(0)) or Decimal(rng.randrange(80, 300, 10)),
        )
        db.add(project)
        await db.flush()
        for position, (name, hours) in enumerate(zip(spec["phases"], phase_hours, strict=True)):
            db.add(Phase(project_id=project.id, name=name, position=position, planned_hours=hours))
        for username in spec["members"]:
            db.add(Membership(project_id=project.id, user_id=users[username].id))
        return project, True


async def _generate_logs(database: Database, users: dict, rng: random.Random, today: dt.date):
    """Log about five months of working days for every engineer, up to yesterday."""
    async with database.read() as db:
        rows = (
            await db.execute(
                select(Membership.user_id, Project.id, Project.status).join(
                    Project, Project.id == Membership.project_id
                )
            )
        ).all()
        phases = {}
        for phase in await db.scalars(select(Phase).order_by(Phase.position)):
            phases.setdefault(phase.project_id, []).append(phase.id)
    projects_of: dict[int, list[int]] = {}
    for user_id, project_id, status in rows:
        if status != "archived":
            projects_of.setdefault(user_id, []).append(project_id)

    logs = []
    start = today - dt.timedelta(days=150)
    for user in users.values():
        if user.role != "engineer" or user.id not in projects_of:
            continue
        day = start
        while day < today:
            if day.weekday() < 5 and rng.random() > 0.08:
                remaining = Decimal(8)
                for project_id in rng.sample(
                    projects_of[user.id], min(2, len(projects_of[user.id]))
                ):
                    hours = min(remaining, Decimal(rng.choice([2, 3, 4, 4.5, 5, 6])))
                    if hours <= 0:
                        break
                    remaining -= hours
                    phase_ids = phases.get(project_id)
                    logs.append(
                        WorkLog(
                            user_id=user.id,
                            project_id=project_id,
                            phase_id=rng.choice(phase_ids) if phase_ids else None,
                            work_date=day,
                            hours=hours,
                            description=rng.choice(TASKS),
                            created_by=user.id,
                            updated_by=user.id,
                        )
                    )
            day += dt.timedelta(days=1)
    async with database.write() as db:
        db.add_all(logs)
    return len(logs)


async def load_demo(database: Database, *, progress: bool = True, today: dt.date | None = None):
    """Load the demo dataset; return the number of work logs added."""
    rng = random.Random(2026)
    today = today or dt.date.today()
    _say(progress, "Loading demo data ...")
    users = await _ensure_users(database, progress)
    created = 0
    specs = _project_specs(rng)
    for index, spec in enumerate(specs, 1):
        _, new = await _ensure_project(database, spec, users, rng)
        created += new
        if progress and index % 10 == 0:
            _say(progress, f"  projects: {index}/{len(specs)}")
    async with database.read() as db:
        existing_logs = await db.scalar(select(func.count()).select_from(WorkLog))
    added = 0
    if existing_logs == 0:
        added = await _generate_logs(database, users, rng, today)
    _say(progress, f"  work logs added: {added}")
    _say(progress, "Demo data ready. Sign in with any of these (password " + DEMO_PASSWORD + "):")
    for username, name, role, _ in PEOPLE[:4]:
        _say(progress, f"  {username:<8} {role:<9} {name}")
    return added
