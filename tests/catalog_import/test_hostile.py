"""Hostile and broken files: each ends in a clear ImportFileError and nothing else, before any row
is handed on (nothing can be applied)."""

import io
import resource

import pytest

from catalog_import import ImportFileError, InMemoryProductLookup, Limits, open_table, validate
from catalog_import.xlsx import _Budget
from tests.catalog_import import hostile_corpus
from tests.catalog_import.helpers import SPEC, file_bytes, row

NAMES = sorted(hostile_corpus.EXPECTED)


def _load(name: str) -> bytes:
    if name in hostile_corpus.GENERATED:
        return hostile_corpus.generated(name)
    return (hostile_corpus.FIXTURES / name).read_bytes()


def _import(data: bytes, name: str, limits: Limits | None = None, handed_on: list | None = None) -> list:
    """The whole pipeline; rows handed on are collected so a test can prove there were none."""
    handed_on = [] if handed_on is None else handed_on
    with open_table(io.BytesIO(data), name, **({"limits": limits} if limits else {})) as table:
        for result in validate(table, SPEC, InMemoryProductLookup()):
            handed_on.append(result)
    return handed_on


@pytest.mark.parametrize("name", NAMES)
def test_hostile_file_gives_a_clear_error(name):
    data = _load(name)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    handed_on: list = []
    with pytest.raises(ImportFileError) as caught:
        _import(data, name, handed_on=handed_on)
    assert handed_on == []
    error = caught.value
    assert type(error) is ImportFileError
    assert error.code == hostile_corpus.EXPECTED[name], str(error)
    # A Chinese sentence that says what to do, not a traceback or an English library message.
    message = str(error)
    assert any("\u4e00" <= char <= "\u9fff" for char in message)
    assert any(word in message for word in ("请", "已拒绝")), message
    # No file makes the process balloon (a zip bomb would take gigabytes).
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200


def test_committed_corpus_matches_its_builders():
    for name, build in hostile_corpus.CORPUS.items():
        assert (hostile_corpus.FIXTURES / name).read_bytes() == build(), (
            f"rebuild {name}: see hostile_corpus.py"
        )


def test_every_corpus_file_has_an_expectation():
    assert set(hostile_corpus.CORPUS) | set(hostile_corpus.GENERATED) == set(hostile_corpus.EXPECTED)


def test_the_zip_bomb_is_refused_before_inflating():
    data = hostile_corpus.zip_bomb_xlsx()
    assert len(data) < 2 * 1024 * 1024
    with pytest.raises(ImportFileError) as caught:
        open_table(io.BytesIO(data), "bomb.xlsx")
    assert "压缩炸弹" in str(caught.value)


def test_the_total_uncompressed_size_is_limited_too():
    data = file_bytes([row()], "xlsx")
    with pytest.raises(ImportFileError) as caught:
        open_table(io.BytesIO(data), "a.xlsx", limits=Limits(max_uncompressed_bytes=2_000))
    assert caught.value.code == "zip_bomb"
    assert "解压后共" in str(caught.value)


def test_inflated_bytes_are_counted_whatever_the_directory_says():
    budget = _Budget(Limits(max_uncompressed_bytes=10))
    budget.take(10)
    with pytest.raises(ImportFileError) as caught:
        budget.take(1)
    assert caught.value.code == "zip_bomb"


def test_the_million_character_cell_names_its_row_and_column():
    for name in ("million_char_cell.csv", "million_char_cell.xlsx"):
        with pytest.raises(ImportFileError) as caught:
            _import(_load(name), name)
        assert str(caught.value) == (
            "第 2 行第 C 列（＊型号｜model）的内容超过 2000 个字符；请精简该单元格（长说明请放在商品详情中）"
        )
        assert (caught.value.row, caught.value.column) == (2, "C")


@pytest.mark.parametrize("length", [2_001, 150_000])
def test_long_cells_below_the_line_limit_are_refused_too(length):
    data = file_bytes([row(), row(supplier_sku="SKU-2", name="长" * length)], "csv")
    with pytest.raises(ImportFileError) as caught:
        _import(data, "a.csv")
    assert str(caught.value).startswith("第 3 行第 E 列（＊商品名称｜name）的内容超过 2000 个字符")


def test_too_many_rows_stops_the_import():
    rows = [row(supplier_sku=f"SKU-{i}", model=f"M{i}") for i in range(6)]
    for fmt in ("csv", "xlsx"):
        with pytest.raises(ImportFileError) as caught:
            _import(file_bytes(rows, fmt), f"a.{fmt}", Limits(max_rows=5))
        assert str(caught.value) == "数据超过 5 行（第 7 行起超出）；请拆分为多个文件分别上传"


def test_a_file_over_the_size_limit_is_refused_even_when_streamed():
    data = file_bytes([row()], "csv")

    class Unseekable(io.RawIOBase):
        def __init__(self, data):
            self._inner = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, buffer):
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    with pytest.raises(ImportFileError) as caught:
        open_table(Unseekable(data), "a.csv", limits=Limits(max_file_bytes=100))
    assert caught.value.code == "too_large"
    with open_table(Unseekable(data), "a.csv") as table:  # within the limit it is read normally
        assert len(list(table.rows())) == 1


def test_a_renamed_file_is_read_by_its_content():
    """A CSV saved as .xlsx and an XLSX saved as .csv are read for what they are."""
    csv_data, xlsx_data = file_bytes([row()], "csv"), file_bytes([row()], "xlsx")
    for data, name, fmt in ((csv_data, "catalog.xlsx", "csv"), (xlsx_data, "catalog.csv", "xlsx")):
        with open_table(io.BytesIO(data), name) as table:
            assert table.format == fmt
            results = list(validate(table, SPEC, InMemoryProductLookup()))
        assert results[0].ok, results[0].message


def test_openpyxl_itself_reads_with_defusedxml():
    """The app may read workbooks with openpyxl elsewhere: defusedxml is installed, so it is used."""
    import openpyxl

    assert openpyxl.DEFUSEDXML is True
