"""The spec's examples are what the code wrote (nulls included), pages show an item, every
problem answer shows a problem made from its class, and each problem type says what it means."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict

from safeguarding_kit.openapi_examples import add_problem_examples, restore_example_nulls
from safeguarding_kit.pagination import Page, decode_cursor
from safeguarding_kit.problem_types import meaning, problem_types, problem_types_markdown
from safeguarding_kit.problems import NotFound, Problem, ProblemDetails


class EpisodeRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "ep-1", "found_at": None, "location": {"ward": None}}]}
    )

    id: str
    found_at: str | None
    location: dict[str, str | None]


def spec_of(app: FastAPI) -> dict[str, Any]:
    return get_openapi(title="t", version="1", routes=app.routes)


def episodes_app() -> FastAPI:
    app = FastAPI()

    @app.get("/episodes/{episode_id}", response_model=EpisodeRead)
    def read(episode_id: str) -> EpisodeRead:
        raise NotImplementedError

    @app.get("/episodes", response_model=Page[EpisodeRead])
    def list_episodes() -> Page[EpisodeRead]:
        raise NotImplementedError

    return app


def test_fastapi_drops_the_null_of_a_required_nullable_field_and_the_kit_puts_it_back() -> None:
    app = episodes_app()
    spec = spec_of(app)
    assert "found_at" not in spec["components"]["schemas"]["EpisodeRead"]["examples"][0]
    restore_example_nulls(spec, app.routes)
    example = spec["components"]["schemas"]["EpisodeRead"]["examples"][0]
    assert example == {"id": "ep-1", "found_at": None, "location": {"ward": None}}


def test_a_page_shows_its_items_first_example_and_a_cursor_the_api_would_issue() -> None:
    app = episodes_app()
    spec = spec_of(app)
    restore_example_nulls(spec, app.routes)
    (page,) = spec["components"]["schemas"]["Page_EpisodeRead_"]["examples"]
    assert page["items"] == [{"id": "ep-1", "found_at": None, "location": {"ward": None}}]
    decode_cursor(page["next_cursor"])


def _operation(**extra: Any) -> dict[str, Any]:
    def problem() -> dict[str, Any]:
        return {"content": {"application/problem+json": {"schema": {}}}}

    return {"responses": {"404": problem(), "422": problem(), "418": problem()}, **extra}


def test_each_problem_answer_shows_its_kit_problem_and_422_names_a_field() -> None:
    body = {"type": "object", "required": ["child_id"], "properties": {"child_id": {"type": "string"}}}
    spec = {
        "paths": {
            "/links": {"post": _operation(requestBody={"content": {"application/json": {"schema": body}}})}
        }
    }
    add_problem_examples(spec, own=[])
    responses = spec["paths"]["/links"]["post"]["responses"]
    not_found = responses["404"]["content"]["application/problem+json"]["examples"]["not-found"]["value"]
    assert ProblemDetails.model_validate(not_found).type == "urn:safeguarding:problem:not-found"
    invalid = responses["422"]["content"]["application/problem+json"]["examples"]["validation-error"]["value"]
    assert invalid["errors"] == [{"detail": "Field required", "pointer": "#/child_id"}]
    # A status no kit problem has and no problem of the process answers shows no example.
    assert "examples" not in responses["418"]["content"]["application/problem+json"]


class Teapot(Problem):
    """The hub's teapot refuses to brew coffee."""

    status, slug, title = 418, "teapot", "I am a teapot"


class TeapotNotFound(NotFound):
    slug, title = "teapot-not-found", "Teapot not found"


def test_a_status_the_kit_has_no_problem_for_shows_the_processs_own() -> None:
    spec = {"paths": {"/tea": {"get": _operation()}}}
    add_problem_examples(spec, own=[Teapot])
    example = spec["paths"]["/tea"]["get"]["responses"]["418"]["content"]["application/problem+json"][
        "examples"
    ]
    assert example["teapot"]["value"]["detail"] == "The hub's teapot refuses to brew coffee."


def test_a_problem_without_a_docstring_means_its_title_and_what_its_general_problem_means() -> None:
    assert meaning(Teapot) == "The hub's teapot refuses to brew coffee."
    assert meaning(TeapotNotFound) == "Teapot not found. " + meaning(NotFound)


def test_the_list_has_one_row_per_type_and_escapes_table_cells() -> None:
    class Piped(Problem):
        """Either | or."""

        status, slug, title = 400, "piped", "Piped"

    entries = problem_types([Teapot, Piped, Teapot])
    assert [entry["type"] for entry in entries] == [
        "urn:safeguarding:problem:piped",
        "urn:safeguarding:problem:teapot",
    ]
    assert "| `urn:safeguarding:problem:piped` | 400 | Piped | Either \\| or. |" in problem_types_markdown(
        entries
    )
