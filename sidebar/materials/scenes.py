"""用于: the situation a material serves in a client's 下一步, chosen by the content team (not reviewed:
it changes nothing a client receives, only when an advisor is offered it)."""
from ..extensions import db
from ..models import SCENES, MaterialScene, utcnow
from . import review


def scene_of(material_id):
    """The material's scene key, or '' when none is set."""
    row = db.session.get(MaterialScene, material_id)
    return row.scene if row else ""


def set_scene(editor, material_id, scene):
    """Set (or with '' clear) the material's scene; review.NotFound / review.InvalidInput as the console maps them."""
    review.get_material(material_id)
    if scene and scene not in SCENES:
        raise review.InvalidInput("没有这个使用场景")
    row = db.session.get(MaterialScene, material_id)
    if not scene:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(MaterialScene(material_id=material_id, scene=scene, set_by=editor))
    else:
        row.scene, row.set_by, row.set_at = scene, editor, utcnow()
    db.session.flush()
