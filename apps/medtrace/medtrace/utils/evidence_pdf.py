"""Evidence PDFs (DHR, trace and recall reports) carry "<record> - page / pages" on every page.

Debian's wkhtmltopdf is built on unpatched Qt, which ignores --footer-html, so the numbers are stamped
afterwards with pypdf: a transparent page holding one line of text, merged onto each page.
"""

import io

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

FONT_SIZE = 8
# Helvetica is one of the 14 standard PDF fonts: no embedding needed, Latin-1 only, so the stamp keeps
# to the record name and digits, which need no translation.
HELVETICA = DictionaryObject(
	{
		NameObject("/Type"): NameObject("/Font"),
		NameObject("/Subtype"): NameObject("/Type1"),
		NameObject("/BaseFont"): NameObject("/Helvetica"),
	}
)


def page_stamp(width: float, height: float, text: str) -> PageObject:
	stamp = PageObject.create_blank_page(width=width, height=height)
	stamp[NameObject("/Resources")] = DictionaryObject(
		{NameObject("/Font"): DictionaryObject({NameObject("/MTStamp"): HELVETICA})}
	)
	safe = text.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
	x = (width - len(safe) * FONT_SIZE * 0.5) / 2
	content = DecodedStreamObject()
	content.set_data(b"BT /MTStamp %d Tf %.1f 16 Td (" % (FONT_SIZE, x) + safe + b") Tj ET")
	stamp[NameObject("/Contents")] = content
	return stamp


def number_pages(pdf: bytes, label: str) -> bytes:
	document = PdfReader(io.BytesIO(pdf))
	count = len(document.pages)
	writer = PdfWriter()
	for number, page in enumerate(document.pages, start=1):
		box = page.mediabox
		page.merge_page(page_stamp(float(box.width), float(box.height), f"{label} - {number} / {count}"))
		writer.add_page(page)
	output = io.BytesIO()
	writer.write(output)
	return output.getvalue()
