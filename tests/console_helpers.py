"""Shared set-up of the console tests: which pages a phone opens, as whom."""


def console_pages(app):
    """(userid, path) of every console page, each opened by someone whose role may see it."""
    from sidebar.extensions import db
    from sidebar.models import Material
    from sidebar.sop.review import list_plans

    with app.app_context():
        material = db.session.scalar(db.select(Material.id).where(Material.kind == "link").order_by(Material.id))
        plan = list_plans()[0].id
    return [("zhaomin", "/console/materials"), ("zhaomin", f"/console/materials/{material}"),
            ("zhaomin", "/console/materials/new?kind=image"), ("zhaomin", f"/console/materials/{material}/edit"),
            ("zhaomin", "/console/categories"),
            ("sunli", "/console/materials?state=pending"), ("sunli", "/console/audit"),
            ("zhouqiang", "/console/figures"), ("sunli", "/console/sop/"), ("sunli", f"/console/sop/{plan}"),
            ("zhouqiang", "/console/jobs")]
