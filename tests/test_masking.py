"""Which parameter names are secret by convention (nbsched.masking)."""

from __future__ import annotations

import html
import io
import json

import pytest

from nbsched.masking import MaskedStream, Masker, is_secret_name


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_token", True),
        ("db_password", True),
        ("apiKey", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("adminpassword", True),
        ("credentials", True),
        ("max_tokens", False),  # a model parameter, not a secret: its value must not be scrubbed from output
        ("tokenizer", False),
        ("region", False),
    ],
)
def test_secret_names_are_judged_word_by_word(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_a_masker_replaces_secrets_also_in_their_escaped_forms() -> None:
    secret = "p@ss\"w'o<rd>&ü\\x"
    masker = Masker([secret, 4711, None, True, "ab"])  # "ab": too short to scrub from free text
    for shown in (
        secret,
        repr(secret),
        json.dumps(secret),
        json.dumps(secret, ensure_ascii=False),
        html.escape(secret),
    ):
        assert masker.text(f"<{shown}>") in ("<***>", '<"***">', "<'***'>"), shown
    assert masker.text("pin 4711, ab") == "pin ***, ab"
    assert masker.data({"k": [secret, 1, {"x": f"is {secret}"}]}) == {"k": ["***", 1, {"x": "is ***"}]}
    assert Masker().text("ab") == "ab" and not Masker() and not Masker(["ab"])


def test_a_masked_stream_masks_a_secret_written_in_pieces_and_holds_back_only_a_possible_start() -> None:
    target = io.StringIO()
    stream = MaskedStream(target, lambda: Masker(["hunter2"]))
    print("the key is", "hunter2", file=stream)
    assert target.getvalue() == "the key is ***\n"
    stream.write("then hun")
    assert target.getvalue().endswith("then ")  # "hun" may begin the secret: held back
    stream.write("ter2 and hunt")
    stream.write("ing")  # not the secret after all
    stream.write(" h")
    stream.drain()
    assert target.getvalue() == "the key is ***\nthen *** and hunting h"
    plain = io.StringIO()
    MaskedStream(plain, Masker).write("no secrets: hunter2")
    assert plain.getvalue() == "no secrets: hunter2"


def test_a_run_scrubber_masks_contents_and_keeps_the_structure() -> None:
    import nbformat

    from nbsched.notebooks.parameters import inject_parameters
    from nbsched.notebooks.scrub import RunScrubber

    params = {"api_token": "abc", "pin": 7, "region": "EU"}  # pin: declared secret, too short to scrub from text
    scrub = RunScrubber(params, ["pin"])
    assert scrub.names == {"api_token", "pin"}
    cell = nbformat.v4.new_code_cell('key = "abc"', id="xabcx")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="abc\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<b>abc</b>", "application/json": {"t": "abc"}}),
        nbformat.v4.new_output("error", ename="ValueError", evalue="abc", traceback=["\x1b[31mValueError\x1b[0m: abc"]),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    inject_parameters(nb, params, nbformat.v4.new_code_cell)
    nb.metadata["widgets"] = {"state": {"w": {"value": "abc"}}}
    written = scrub.notebook(nb)
    nbformat.validate(written)
    assert written.cells[0].source == '# Parameters\napi_token = "***"\npin = "***"\nregion = "EU"\n'
    assert written.cells[1].id == "xabcx" and written.cells[1].source == 'key = "***"'
    assert [o.get("text") for o in written.cells[1].outputs] == ["***\n", None, None]
    assert written.cells[1].outputs[1].data == {"text/html": "<b>***</b>", "application/json": {"t": "***"}}
    assert (written.cells[1].outputs[2].evalue, written.cells[1].outputs[2].traceback) == (
        "***",
        ["\x1b[31mValueError\x1b[0m: ***"],
    )
    assert written.metadata.widgets == {"state": {"w": {"value": "***"}}}
    assert scrub.parameters_metadata() == {"api_token": "***", "pin": "***", "region": "EU"}
    assert nb.cells[0].source.startswith('# Parameters\napi_token = "abc"\npin = 7\n')  # what runs is untouched
    assert nb.cells[1].outputs[0].text == "abc\n"
    # without secrets, nothing is copied
    plain = RunScrubber({"region": "EU"})
    assert not plain and plain.notebook(nb) is nb and plain.cell(cell) is cell and plain.text("abc") == "abc"
