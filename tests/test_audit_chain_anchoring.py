"""The audit chain against an attacker who can write to the database: entries are sealed with a key kept in
site_config.json, so rewriting rows and recomputing the hashes without it is detected and the first altered
entry named; checkpoints of the head leave the database (e-mailed, printed on evidence) and verification
against one shows where the chain diverges — cut back, or rewritten by someone holding the key too."""

import email
import hashlib
import json

import frappe
import pytest
from frappe.query_builder import DocType

from factories import make_device_identifier
from medtrace.audit import audit_chain
from medtrace.audit.audit_chain import (
	ENTRY,
	KEY_CONFIG,
	current_checkpoint,
	entry_name,
	entry_payload,
	keyed_seal,
	publish_checkpoint,
	seal_pending,
	sealed_content,
	verify_against_checkpoint,
	verify_audit_chain,
)
from medtrace.patches.v0_4 import key_audit_chain
from medtrace.setup.permissions import QUALITY_APPROVER, QUALITY_ENGINEER
from test_audit_chain import delete_in_database, edit_in_database, entries_of
from test_print_escaping import filled_record
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-AUD-004")


def chain_from(sequence: int) -> list[dict]:
	return frappe.get_all(ENTRY, filters={"sequence": (">=", sequence)}, fields=["*"], order_by="sequence")


def plain_sha256(entry: dict) -> str:
	"""What an attacker without the key can compute: the hash the chain used before it was keyed."""
	return hashlib.sha256(entry_payload(entry)).hexdigest()


def rewrite_chain_from(entry: dict, seal, **changes) -> None:
	"""Alter an entry (and the row it seals), then recompute every hash after it and the head, with `seal`
	— the procedure of finding 10."""
	previous_hash = entry["previous_hash"]
	for number, later in enumerate(chain_from(entry["sequence"])):
		if number == 0:
			later.update(changes)
		later["previous_hash"] = previous_hash
		previous_hash = later["entry_hash"] = seal(later)
		edit_in_database(ENTRY, later["name"], **{field: later[field] for field in ("content", "previous_hash", "entry_hash")})
	audit_chain.move_head(audit_chain.lock_head(), later["sequence"], previous_hash)


def forged_version(entry) -> dict:
	"""The Version an entry seals, its data altered in the database, and the entry's content to match."""
	data = json.loads(json.loads(entry.content)["data"])
	data["changed"] = [["brand_name", "TestBrand", "Forged Brand"]]
	forged = json.dumps(data)
	edit_in_database("Version", entry.source_name, data=forged)
	row = frappe.db.get_value("Version", entry.source_name, ["name", *audit_chain.CHAINED_SOURCES["Version"].fields], as_dict=True)
	return {"content": sealed_content(audit_chain.CHAINED_SOURCES["Version"], row)}


def changed_records(count: int = 2) -> list[dict]:
	entries = []
	for _number in range(count):
		di = make_device_identifier()
		di.brand_name = "Renamed Brand"
		di.save()
		seal_pending()
		entries += entries_of("UDI Device Identifier", di.name)
	return entries


def test_rewriting_rows_and_recomputing_hashes_without_the_key_is_detected():
	created, changed, *_later = changed_records()
	assert verify_audit_chain(alert=False)["intact"]
	for guessed_seal in (plain_sha256, lambda entry: audit_chain.hmac.new(b"guessed", entry_payload(entry), "sha256").hexdigest()):
		frappe.db.savepoint("rewrite")
		rewrite_chain_from(changed, guessed_seal, **forged_version(changed))
		result = verify_audit_chain(alert=False)
		assert not result["intact"]
		assert result["first_broken_entry"] == changed.name
		assert "altered" in result["reason"]
		frappe.db.rollback(save_point="rewrite")
	assert verify_audit_chain(alert=False)["intact"]


def test_chain_verifies_against_a_checkpoint_it_still_holds():
	changed_records(1)
	checkpoint = current_checkpoint()
	changed_records(1)  # the chain goes on after the checkpoint
	result = verify_audit_chain(alert=False, checkpoint_sequence=checkpoint["sequence"], checkpoint_hash=checkpoint["entry_hash"])
	assert result["intact"] and result["matches_checkpoint"]
	assert str(checkpoint["sequence"]) in result["reason"]
	assert frappe.db.get_single_value("Audit Chain", "last_verification") == "Intact"


def test_chain_cut_back_behind_a_checkpoint_is_detected():
	_created, changed, *_later = changed_records()
	checkpoint = current_checkpoint()
	# Cut the end off and move the head back: the rest of the chain still verifies by itself.
	delete_in_database(ENTRY, [entry.name for entry in chain_from(changed.sequence)])
	audit_chain.move_head(audit_chain.lock_head(), changed.sequence - 1, changed.previous_hash)
	assert verify_audit_chain(alert=False)["intact"]
	result = verify_audit_chain(alert=False, checkpoint_sequence=checkpoint["sequence"], checkpoint_hash=checkpoint["entry_hash"])
	assert not result["intact"] and not result["matches_checkpoint"]
	assert result["first_broken_entry"] == changed.name
	assert "deleted from its end" in result["reason"]


def test_chain_rewritten_with_the_key_diverges_from_the_checkpoint():
	"""Someone holding the key and the database rewrites history: only a checkpoint taken before shows it."""
	_created, changed, *_later = changed_records()
	checkpoint = current_checkpoint()
	rewrite_chain_from(changed, keyed_seal(), **forged_version(changed))
	assert verify_audit_chain(alert=False)["intact"]
	result = verify_audit_chain(alert=False, checkpoint_sequence=checkpoint["sequence"], checkpoint_hash=checkpoint["entry_hash"])
	assert not result["intact"] and not result["matches_checkpoint"]
	assert result["first_broken_entry"] == entry_name(checkpoint["sequence"])
	assert "holding the audit chain's key" in result["reason"]


def test_entry_altered_before_a_checkpoint_is_named():
	_created, changed, *_later = changed_records()
	checkpoint = current_checkpoint()
	rewrite_chain_from(changed, plain_sha256, **forged_version(changed))
	result = verify_audit_chain(alert=False, checkpoint_sequence=checkpoint["sequence"], checkpoint_hash=checkpoint["entry_hash"])
	assert not result["matches_checkpoint"]
	assert result["first_broken_entry"] == changed.name


def test_checkpoint_is_emailed_to_the_quality_approvers(user_with_role):
	approver = user_with_role(QUALITY_APPROVER)
	changed_records(1)
	checkpoint = publish_checkpoint()
	assert checkpoint["sequence"] == current_checkpoint()["sequence"]
	queued = frappe.get_all(
		"Email Queue", filters={"reference_doctype": "Audit Chain", "creation": (">=", checkpoint["taken_on"])}, pluck="name"
	)
	assert queued
	queued_email = frappe.get_doc("Email Queue", queued[-1])
	assert frappe.db.get_value("User", approver, "email") in {recipient.recipient for recipient in queued_email.recipients}
	html = "".join(
		part.get_payload(decode=True).decode()
		for part in email.message_from_string(queued_email.message).walk()
		if part.get_content_type() == "text/html"
	)
	assert checkpoint["entry_hash"] in html and f"<code>{checkpoint['sequence']}</code>" in html
	assert frappe.db.get_single_value("Audit Chain", "checkpoint_hash") == checkpoint["entry_hash"]


@pytest.mark.requirement("MT-DHR-004")
def test_evidence_prints_carry_the_current_checkpoint():
	changed_records(1)
	checkpoint = current_checkpoint()
	for doctype, print_format in (("Device History Record", "Device History Record"), ("Recall", "Recall Report"), ("Change Request", "Change Request")):
		doc = filled_record(doctype, lambda fieldname: "Evidence")
		html = frappe.get_print(doctype, doc.name, print_format, doc=doc)
		assert checkpoint["entry_hash"] in html, print_format
		assert "Audit chain checkpoint" in html


@pytest.mark.requirement("MT-PRM-001")
def test_checkpoint_verification_is_for_approvers_and_refuses_bad_checkpoints(user_with_role):
	frappe.set_user(user_with_role(QUALITY_ENGINEER))
	with pytest.raises(frappe.PermissionError):
		verify_against_checkpoint(1, "0" * 64)
	frappe.set_user(user_with_role(QUALITY_APPROVER))
	for sequence, entry_hash in ((0, "0" * 64), ("x", "0" * 64), (1, "abc"), (1, "<script>" + "0" * 56), ("1" * 40, "0" * 64)):
		with pytest.raises(frappe.ValidationError):
			verify_against_checkpoint(sequence, entry_hash)
	assert verify_against_checkpoint(1, "A" * 64) == {"queued": True}


def test_nothing_is_sealed_without_the_key(monkeypatch):
	monkeypatch.delitem(frappe.local.conf, KEY_CONFIG)
	head = current_checkpoint()["sequence"]
	make_device_identifier()
	with pytest.raises(frappe.ValidationError, match=KEY_CONFIG):
		seal_pending()
	assert current_checkpoint()["sequence"] == head


def unkey() -> None:
	"""The chain as MedTrace sealed it before entries were keyed."""
	audit_chain.move_head(audit_chain.lock_head(), *key_audit_chain.reseal(plain_sha256)[:2])


def test_patch_reseals_an_unkeyed_chain_with_the_key_and_records_it():
	changed_records(1)
	unkey()
	assert not verify_audit_chain(alert=False)["intact"]
	entries = frappe.db.count(ENTRY)
	key_audit_chain.execute()
	assert verify_audit_chain(alert=False)["intact"]
	migration = chain_from(entries + 1)
	assert [entry.event for entry in migration] == [key_audit_chain.KEYED_EVENT]
	record = json.loads(migration[0].content)
	assert record["entries_resealed"] == entries
	assert record["unkeyed_verification"]["intact"]


def test_patch_keeps_a_break_of_the_unkeyed_chain_on_record():
	"""Re-sealing must not launder tampering that happened before the key: the migration entry names it."""
	_created, changed, *_later = changed_records()
	unkey()
	edit_in_database(ENTRY, changed.name, user="someone.else@example.com")
	key_audit_chain.execute()
	assert verify_audit_chain(alert=False)["intact"]
	record = json.loads(chain_from(1)[-1].content)
	assert not record["unkeyed_verification"]["intact"]
	assert record["unkeyed_verification"]["first_broken_entry"] == changed.name


def test_keyed_entries_are_not_plain_sha256():
	created, *_rest = changed_records(1)
	assert created.entry_hash == keyed_seal()(created) != plain_sha256(created)
	table = DocType(ENTRY)
	assert frappe.qb.from_(table).select(table.name).where(table.entry_hash == plain_sha256(created)).run() == ()
