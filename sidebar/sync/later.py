"""Work that runs after the response has been sent, in its own app context."""
from flask import current_app


def after_response(response, work, *args):
    """Run work(*args) once the response is sent: the caller (WeCom, an importer) is not kept waiting."""
    app = current_app._get_current_object()

    def run():
        """The deferred work; a failure is logged, never sent to a client that has already left."""
        with app.app_context():
            try:
                work(*args)
            except Exception:  # noqa: BLE001 - whatever it was, the inbox/drain or nightly run repairs it
                app.logger.exception("deferred %s failed", getattr(work, "__name__", work))

    response.call_on_close(run)
    return response
