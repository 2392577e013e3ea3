"""Tamper evidence for the audit trail: a keyed hash chain over the rows the audit trail consists of.

Every sealed row becomes one Audit Chain Entry, numbered without gaps:

	entry_hash = HMAC-SHA-256(key, previous entry's hash + canonical JSON of the entry)

The key is in site_config.json (medtrace_audit_chain_key), not in the database: whoever can only write
to the database cannot recompute the hashes after altering a row, so verification names the first entry
they touched. What a key cannot show — the chain's end cut off, or the whole chain rewritten by someone
who also holds the key — checkpoints show: the head's number and hash leave the database, e-mailed daily
to the Quality Approvers (publish_checkpoint) and printed on every evidence PDF, and
verify_against_checkpoint compares the chain with one of them.

The entry holds the row's canonical content — for a Version its name, ref_doctype, docname, data, owner
and creation — so the trail survives even where Frappe later deletes the row. Rows of the doctypes in
CHAINED_SOURCES are sealed as they are inserted (Versions only when they are about audited records);
deletions and renames of audited records are sealed as events (medtrace.audit.audit_trail).

To chain another doctype, list it in CHAINED_SOURCES.

Entries are appended when the transaction commits (db.before_commit): in the same transaction as the rows
they seal and under a row lock on the chain head (the Audit Chain single), so concurrent writers queue up
instead of forking the chain. Taking the lock at commit rather than at the first Version keeps it from
being held while the transaction goes on to lock other records, which would deadlock transactions that
touch the same records in different orders.

verify_audit_chain() walks the chain and re-reads every sealed row: an entry or a sealed row edited or
deleted in the database, a gap in the numbering or a chain shorter than its head is reported, naming the
first broken entry. A Version that Frappe deleted together with its record (delete_doc removes a record's
Versions) is accepted when the chain holds that record's deletion.
"""

import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import frappe
from frappe import _
from frappe.desk.doctype.notification_log.notification_log import make_notification_logs
from frappe.installer import update_site_config
from frappe.query_builder import DocType
from frappe.realtime import get_doc_room
from frappe.utils import cint, escape_html, format_datetime, get_system_timezone, now

from medtrace.audit.audited import is_audited
from medtrace.setup.permissions import QUALITY_APPROVER, users_with_roles

CHAIN = "Audit Chain"
ENTRY = "Audit Chain Entry"
GENESIS_HASH = "0" * 64
KEY_CONFIG = "medtrace_audit_chain_key"
HEAD_FIELDS = ("head_sequence", "head_hash")
HASHED_FIELDS = (
	"sequence", "event", "ref_doctype", "ref_name", "user", "timestamp", "source_doctype", "source_name", "content",
)
ENTRY_FIELDS = (*HASHED_FIELDS, "previous_hash", "entry_hash")
ALERTED_ROLES = ("System Manager", QUALITY_APPROVER)
PAGE_SIZE = 5000


@dataclass(frozen=True)
class ChainedSource:
	"""A doctype whose rows are sealed into the chain as they are inserted."""

	reference: tuple[str, str]  # the fields naming the record a row is about
	fields: tuple[str, ...]  # the fields sealed besides name
	event: str | Callable[[dict], str]
	audited_records_only: bool = True


def version_event(row: dict) -> str:
	data = json.loads(row["data"] or "{}")
	if "created_by" in data:
		return "Created"
	docstatus = next((change[2] for change in data.get("changed", []) if change[0] == "docstatus"), None)
	return {1: "Submitted", 2: "Cancelled"}.get(docstatus, "Changed")


CHAINED_SOURCES: dict[str, ChainedSource] = {
	"Version": ChainedSource(
		reference=("ref_doctype", "docname"),
		fields=("ref_doctype", "docname", "data", "owner", "creation"),
		event=version_event,
	),
	"Electronic Signature": ChainedSource(
		reference=("reference_doctype", "reference_name"),
		fields=(
			"reference_doctype", "reference_name", "meaning", "reason", "signer", "signer_name", "signed_on",
			"content_hash", "owner", "creation",
		),
		event="Signed",
		audited_records_only=False,
	),
}


def canonical_value(value):
	"""Dates and times as MariaDB gives them back (microseconds included), so a value hashes alike before
	it is stored and after it is read."""
	if isinstance(value, datetime):
		return value.strftime("%Y-%m-%d %H:%M:%S.%f")
	if isinstance(value, date):
		return value.isoformat()
	return value


def canonical_json(values: dict) -> str:
	return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_default)


def json_default(value) -> str:
	return str(canonical_value(value))


def sealed_content(source: ChainedSource, row: dict) -> str:
	return canonical_json({field: row.get(field) for field in ("name", *source.fields)})


def entry_payload(entry: dict) -> bytes:
	return (entry["previous_hash"] + canonical_json({field: entry.get(field) for field in HASHED_FIELDS})).encode()


def chain_key() -> bytes:
	key = frappe.conf.get(KEY_CONFIG)
	if not key:
		# Sealing without the key would make every later entry unverifiable: nothing is written instead.
		frappe.throw(
			_("The audit chain's key {0} is missing from this site's site_config.json. Restore it from where it is kept apart from the database backups: until then no audited change can be saved.").format(KEY_CONFIG),
			title=_("Audit Chain Key Missing"),
		)
	return key.encode()


def ensure_chain_key() -> None:
	"""A new random key in site_config.json, for a site whose chain has no entries sealed with another."""
	if not frappe.conf.get(KEY_CONFIG):
		key = secrets.token_hex(32)
		update_site_config(KEY_CONFIG, key)
		frappe.local.conf[KEY_CONFIG] = key


def entry_name(sequence: int) -> str:
	return f"AUDIT-{sequence:010d}"


# Appending


def queue_for_sealing(doc, method=None) -> None:
	"""after_insert of every doctype: rows of chained doctypes wait for their transaction's commit."""
	source = CHAINED_SOURCES.get(doc.doctype)
	if source and (not source.audited_records_only or is_audited(doc.get(source.reference[0]))):
		pending().append({"source_doctype": doc.doctype, "source_name": doc.name})


def queue_event(event: str, ref_doctype: str, ref_name: str, payload: dict) -> None:
	"""An event no row records (a deletion, a rename), sealed with the content given."""
	pending().append(
		{
			"event": event,
			"ref_doctype": ref_doctype,
			"ref_name": ref_name,
			"user": frappe.session.user,
			"timestamp": now(),
			"source_doctype": None,
			"source_name": None,
			"content": canonical_json(payload),
		}
	)


def pending() -> list[dict]:
	queue = getattr(frappe.local, "medtrace_chain_queue", None)
	if queue is None:
		queue = frappe.local.medtrace_chain_queue = []
		frappe.db.before_commit.add(seal_pending)
		frappe.db.after_rollback.add(forget_pending)
	return queue


def forget_pending() -> None:
	frappe.local.medtrace_chain_queue = None


def seal_pending() -> None:
	"""Append what this transaction queued to the chain; runs just before its commit."""
	queue, frappe.local.medtrace_chain_queue = getattr(frappe.local, "medtrace_chain_queue", None), None
	# Uninstalling MedTrace drops the chain's tables within the transaction that may still seal.
	if not queue or not frappe.db.table_exists(ENTRY):
		return
	entries = entries_still_true(queue)
	if not entries:
		return
	append_entries(entries)


def append_entries(entries: list[dict]) -> None:
	seal = keyed_seal()
	head = lock_head()
	sequence, previous_hash = cint(head.get("head_sequence")), head.get("head_hash") or GENESIS_HASH
	created = now()
	rows = []
	for entry in entries:
		sequence += 1
		entry.update(sequence=sequence, previous_hash=previous_hash)
		previous_hash = entry["entry_hash"] = seal(entry)
		rows.append((entry_name(sequence), created, created, frappe.session.user, frappe.session.user, *(entry[f] for f in ENTRY_FIELDS)))
	frappe.db.bulk_insert(ENTRY, ["name", "creation", "modified", "owner", "modified_by", *ENTRY_FIELDS], rows)
	move_head(head, sequence, previous_hash)


def entries_still_true(queue: list[dict]) -> list[dict]:
	"""The queued entries whose rows and events survived to the commit: a rollback to a savepoint may
	have undone some since they were queued."""
	names_by_doctype: dict[str, list[str]] = {}
	for item in queue:
		if item.get("source_doctype"):
			names_by_doctype.setdefault(item["source_doctype"], []).append(item["source_name"])
	rows = {(doctype, row["name"]): row for doctype, names in names_by_doctype.items() for row in fetch_sources(doctype, names)}
	entries = []
	for item in queue:
		if item.get("source_doctype"):
			row = rows.get((item["source_doctype"], item["source_name"]))
			if row:
				entries.append(entry_for_row(item["source_doctype"], row))
		# A deleted record must still be gone, a renamed one still there under its new name.
		elif bool(frappe.db.exists(item["ref_doctype"], item["ref_name"])) == (item["event"] == "Renamed"):
			entries.append(item)
	return entries


def fetch_sources(doctype: str, names: list[str]) -> list[dict]:
	source = CHAINED_SOURCES[doctype]
	table = DocType(doctype)
	return frappe.qb.from_(table).select(*{"name", *source.fields}).where(table.name.isin(names)).run(as_dict=True)


def entry_for_row(doctype: str, row: dict) -> dict:
	source = CHAINED_SOURCES[doctype]
	return {
		"event": source.event(row) if callable(source.event) else source.event,
		"ref_doctype": row.get(source.reference[0]),
		"ref_name": row.get(source.reference[1]),
		"user": row["owner"],
		"timestamp": canonical_value(row["creation"]),
		"source_doctype": doctype,
		"source_name": row["name"],
		"content": sealed_content(source, row),
	}


def head_query():
	Singles = DocType("Singles")
	return (
		frappe.qb.from_(Singles)
		.select(Singles.field, Singles.value)
		.where((Singles.doctype == CHAIN) & Singles.field.isin(HEAD_FIELDS))
	)


def lock_head() -> dict:
	# Install and migrate create the head rows (ensure_chain_head). Were they missing, the lock would
	# cover the gap they fill: two first seals could not both insert them, one would deadlock instead.
	return dict(head_query().for_update().run())


def ensure_chain_head() -> None:
	"""after_install / after_migrate: the head rows every append locks."""
	head = lock_head()
	if not head:
		move_head(head, 0, GENESIS_HASH)


def move_head(head: dict, sequence: int, entry_hash: str) -> None:
	Singles = DocType("Singles")
	for field, value in (("head_sequence", str(sequence)), ("head_hash", entry_hash)):
		if field in head:
			frappe.qb.update(Singles).set(Singles.value, value).where(
				(Singles.doctype == CHAIN) & (Singles.field == field)
			).run()
		else:
			frappe.qb.into(Singles).columns("doctype", "field", "value").insert(CHAIN, field, value).run()
	frappe.db.value_cache.pop(CHAIN, None)


# Verification


def verify_audit_chain(alert: bool = True, checkpoint_sequence: int | None = None, checkpoint_hash: str | None = None) -> dict:
	"""Verify the whole chain against itself, its head and the rows it seals — and against a checkpoint
	kept outside the database when one is given; record the result on the Audit Chain and, when broken,
	alert System Managers and Quality Approvers and log an error.

	Scheduled daily; from a shell: ``bench --site <site> execute medtrace.audit.audit_chain.verify_audit_chain``
	(``--kwargs "{'checkpoint_sequence': 1234, 'checkpoint_hash': '…'}"`` to compare with a checkpoint)
	"""
	if checkpoint_sequence:
		result = compare_with_checkpoint(*valid_checkpoint(checkpoint_sequence, checkpoint_hash))
	else:
		result = walk_chain()
	record_verification(result)
	if alert and not result["intact"]:
		raise_alert(result)
	return result


@frappe.whitelist(methods=["POST"])
def verify_audit_chain_now() -> dict:
	"""The Audit Chain form's Verify Now: queued, since a long chain takes longer than a request may."""
	frappe.only_for(ALERTED_ROLES, message=True)
	queue_verification()
	return {"queued": True}


@frappe.whitelist(methods=["POST"])
def verify_against_checkpoint(sequence: int | str, entry_hash: str) -> dict:
	"""The Audit Chain form's Verify Against Checkpoint, with a checkpoint kept outside the database (the
	e-mail, an evidence PDF): queued like Verify Now."""
	frappe.only_for(ALERTED_ROLES, message=True)
	checkpoint_sequence, checkpoint_hash = valid_checkpoint(sequence, entry_hash)
	queue_verification(checkpoint_sequence=checkpoint_sequence, checkpoint_hash=checkpoint_hash)
	return {"queued": True}


def queue_verification(**checkpoint) -> None:
	against = f"-{checkpoint['checkpoint_sequence']}-{checkpoint['checkpoint_hash']}" if checkpoint else ""
	frappe.enqueue(
		"medtrace.audit.audit_chain.verify_audit_chain",
		queue="long",
		timeout=4 * 3600,
		job_id=f"medtrace-verify-audit-chain-{frappe.local.site}{against}",
		deduplicate=True,
		enqueue_after_commit=True,
		**checkpoint,
	)


def walk_chain(seal: Callable[[dict], str] | None = None) -> dict:
	"""Verify the chain; ``seal`` computes an entry's hash (default: with the site's key)."""
	seal = seal or keyed_seal()
	head = dict(head_query().run())
	head_sequence, head_hash = cint(head.get("head_sequence")), head.get("head_hash") or GENESIS_HASH
	deleted, renamed = deleted_and_renamed_records()
	previous = {"sequence": 0, "entry_hash": GENESIS_HASH, "name": None}
	for page in entry_pages():
		for entry, row in page:
			culprit, problem = entry_problem(entry, row, previous, deleted, renamed, seal)
			if problem:
				return broken(culprit, problem, previous["sequence"])
			previous = entry
	if previous["sequence"] != head_sequence or previous["entry_hash"] != head_hash:
		return broken(
			entry_name(previous["sequence"] + 1),
			_("The chain ends at entry {0}, but its head records {1} entries: entries at its end were deleted in the database.").format(
				previous["sequence"], head_sequence
			),
			previous["sequence"],
		)
	return {"intact": True, "entries_verified": previous["sequence"], "first_broken_entry": None, "reason": None}


def keyed_seal() -> Callable[[dict], str]:
	"""An entry's hash: HMAC-SHA-256 with the site's key, its state prepared once for a whole walk."""
	prepared = hmac.new(chain_key(), digestmod="sha256")

	def seal(entry: dict) -> str:
		keyed = prepared.copy()
		keyed.update(entry_payload(entry))
		return keyed.hexdigest()

	return seal


def broken(culprit: str, reason: str, verified: int) -> dict:
	return {"intact": False, "entries_verified": verified, "first_broken_entry": culprit, "reason": reason}


def entry_pages():
	"""Pages of (entry, the row it seals as it is now or None), read with one query per page: the rows of
	every chained doctype are joined in rather than fetched by name."""
	Entry = DocType(ENTRY)
	entry_fields = ("name", "previous_hash", "entry_hash", *HASHED_FIELDS)
	columns = [Entry[field] for field in entry_fields]
	query = frappe.qb.from_(Entry)
	joined = []
	for number, (doctype, source) in enumerate(CHAINED_SOURCES.items()):
		if not frappe.db.table_exists(doctype):
			continue
		table = DocType(doctype).as_(f"sealed_{number}")
		query = query.left_join(table).on((table.name == Entry.source_name) & (Entry.source_doctype == doctype))
		source_fields = ("name", *source.fields)
		joined.append((doctype, source_fields, len(columns)))
		columns += [table[field] for field in source_fields]
	query = query.select(*columns).orderby(Entry.sequence).limit(PAGE_SIZE)
	last = 0
	while page := query.where(Entry.sequence > last).run():
		entries = [dict(zip(entry_fields, values)) for values in page]
		yield [(entry, sealed_row(entry["source_doctype"], values, joined)) for entry, values in zip(entries, page)]
		last = entries[-1]["sequence"]


def sealed_row(source_doctype: str | None, values: tuple, joined: list) -> dict | None:
	for doctype, fields, offset in joined:
		if doctype == source_doctype and values[offset] is not None:
			return dict(zip(fields, values[offset : offset + len(fields)]))
	return None


def deleted_and_renamed_records() -> tuple[set[tuple[str, str]], dict[tuple[str, str], str]]:
	Entry = DocType(ENTRY)
	events = (
		frappe.qb.from_(Entry)
		.select(Entry.event, Entry.ref_doctype, Entry.ref_name, Entry.content)
		.where(Entry.event.isin(("Deleted", "Renamed")))
		.orderby(Entry.sequence)
		.run(as_dict=True)
	)
	deleted = {(e.ref_doctype, e.ref_name) for e in events if e.event == "Deleted"}
	renamed = {}
	for event in events:
		if event.event == "Renamed":
			content = json.loads(event.content)
			renamed[(event.ref_doctype, content["from"])] = content["to"]
	return deleted, renamed


def current_name(renamed: dict, doctype: str, name: str) -> str:
	seen = {name}
	while (doctype, name) in renamed and renamed[(doctype, name)] not in seen:
		name = renamed[(doctype, name)]
		seen.add(name)
	return name


def entry_problem(
	entry: dict, row: dict | None, previous: dict, deleted: set, renamed: dict, seal: Callable[[dict], str]
) -> tuple[str | None, str | None]:
	"""The first entry found broken and why, or (None, None)."""
	if entry["sequence"] != previous["sequence"] + 1:
		return entry["name"], _("It is numbered {0} where entry {1} should follow {2}: entries were deleted or renumbered in the database.").format(
			entry["sequence"], previous["sequence"] + 1, previous["sequence"]
		)
	if entry["previous_hash"] != previous["entry_hash"]:
		return previous["name"] or entry["name"], _("The entry after it no longer links to it: it was rewritten in the database.")
	if not hmac.compare_digest(seal(entry), entry["entry_hash"] or ""):
		return entry["name"], _("It was altered in the database after it was written.")
	return entry["name"], source_problem(entry, row, deleted, renamed)


def source_problem(entry: dict, row: dict | None, deleted: set, renamed: dict) -> str | None:
	source_doctype = entry["source_doctype"]
	source = CHAINED_SOURCES.get(source_doctype)
	if not source:
		return None
	if row is None:
		record_name = current_name(renamed, entry["ref_doctype"], entry["ref_name"])
		if (entry["ref_doctype"], record_name) in deleted:
			return None
		return _("{0} {1}, which it seals, was deleted from the database.").format(_(source_doctype), entry["source_name"])
	content = sealed_content(source, row)
	if content != entry["content"] and row.get(source.reference[1]) == current_name(renamed, entry["ref_doctype"], entry["ref_name"]):
		# Renaming a record moves its rows to the new name.
		content = sealed_content(source, {**row, source.reference[1]: entry["ref_name"]})
	if content != entry["content"]:
		return _("{0} {1}, which it seals, was altered in the database.").format(_(source_doctype), entry["source_name"])
	return None


def record_verification(result: dict) -> None:
	frappe.db.set_single_value(
		CHAIN,
		{
			"last_verified_on": now(),
			"last_verification": "Intact" if result["intact"] else "Broken",
			"entries_verified": result["entries_verified"],
			"first_broken_entry": result["first_broken_entry"],
			"verification_message": result["reason"],
		},
		update_modified=False,
	)
	# An open Audit Chain form shows the result as it arrives (Verify Now runs in the background).
	frappe.publish_realtime(
		"medtrace_audit_chain_verified", {"intact": result["intact"]}, room=get_doc_room(CHAIN, CHAIN), after_commit=True
	)


def raise_alert(result: dict) -> None:
	subject = _("Audit chain broken at entry {0}: {1}").format(result["first_broken_entry"], result["reason"])
	frappe.log_error(title=_("Audit chain broken"), message=subject, reference_doctype=CHAIN, reference_name=CHAIN)
	recipients = frappe.get_all("User", filters={"name": ("in", users_with_roles(ALERTED_ROLES))}, pluck="email")
	make_notification_logs(frappe._dict(type="Alert", document_type=CHAIN, document_name=CHAIN, subject=subject), recipients)


# Checkpoints: the head outside the database


def current_checkpoint() -> dict:
	"""The chain's head as it stands, with the time it was read."""
	head = dict(head_query().run())
	return {
		"sequence": cint(head.get("head_sequence")),
		"entry_hash": head.get("head_hash") or GENESIS_HASH,
		"taken_on": now(),
	}


def audit_checkpoint() -> dict:
	"""Jinja method of the evidence print formats: the checkpoint printed on them, which leaves the
	database with every copy printed or sent."""
	checkpoint = current_checkpoint()
	return {**checkpoint, "taken_on": f"{format_datetime(checkpoint['taken_on'])} ({get_system_timezone()})"}


def publish_checkpoint() -> dict:
	"""Scheduled daily: the head e-mailed to the Quality Approvers, whose mailboxes keep it where a
	database-only attacker cannot reach; recorded on the Audit Chain too, for convenience only."""
	checkpoint = current_checkpoint()
	approvers = users_with_roles((QUALITY_APPROVER,))
	recipients = frappe.get_all("User", filters={"name": ("in", approvers)}, pluck="email") if approvers else []
	if recipients:
		frappe.sendmail(
			recipients=recipients,
			subject=_("Audit chain checkpoint of {0}: entry {1}").format(frappe.local.site, checkpoint["sequence"]),
			message=checkpoint_message(checkpoint),
			reference_doctype=CHAIN,
			reference_name=CHAIN,
		)
	else:
		frappe.log_error(
			title=_("Audit chain checkpoint not sent"),
			message=_("No enabled MedTrace Quality Approver with an e-mail address receives the audit chain's checkpoints."),
			reference_doctype=CHAIN,
		)
	frappe.db.set_single_value(
		CHAIN,
		{
			"checkpoint_sequence": checkpoint["sequence"],
			"checkpoint_hash": checkpoint["entry_hash"],
			"checkpoint_on": checkpoint["taken_on"],
			"checkpoint_sent_to": "\n".join(recipients),
		},
		update_modified=False,
	)
	return checkpoint


def checkpoint_message(checkpoint: dict) -> str:
	facts = (
		(_("Site"), frappe.local.site),
		(_("Entry"), checkpoint["sequence"]),
		(_("Hash"), checkpoint["entry_hash"]),
		(_("Taken On"), f"{format_datetime(checkpoint['taken_on'])} ({get_system_timezone()})"),
	)
	rows = "".join(f"<tr><td><b>{escape_html(label)}</b></td><td><code>{escape_html(str(value))}</code></td></tr>" for label, value in facts)
	return (
		f"<p>{escape_html(_('This is a checkpoint of the audit chain. Keep this e-mail: it lets anyone verify later that the audit trail up to this entry was not rewritten.'))}</p>"
		f"<table>{rows}</table>"
		f"<p>{escape_html(_('To verify: Audit Chain, Verify Against Checkpoint, with the entry and hash above.'))}</p>"
	)


def valid_checkpoint(sequence, entry_hash) -> tuple[int, str]:
	sequence_text, entry_hash = str(sequence or "").strip(), str(entry_hash or "").strip().lower()
	if not re.fullmatch(r"[0-9]{1,12}", sequence_text) or not int(sequence_text):
		frappe.throw(_("The checkpoint's entry must be a positive whole number."), title=_("Invalid Checkpoint"))
	if not re.fullmatch(r"[0-9a-f]{64}", entry_hash):
		frappe.throw(_("The checkpoint's hash must be 64 hexadecimal characters."), title=_("Invalid Checkpoint"))
	return int(sequence_text), entry_hash


def compare_with_checkpoint(sequence: int, entry_hash: str) -> dict:
	"""Whether the chain still holds the checkpoint's entry with the checkpoint's hash, and where it
	diverges otherwise: the first entry verification finds altered, or — when the chain verifies but
	differs from the checkpoint (cut back, or rewritten by someone holding the key) — the entry the
	checkpoint names, at or before which history was changed."""
	walked = walk_chain()
	stored = frappe.db.get_value(ENTRY, {"sequence": sequence}, "entry_hash")
	if stored and hmac.compare_digest(stored, entry_hash):
		if walked["intact"]:
			walked["reason"] = _("The chain holds entry {0} with the checkpoint's hash.").format(sequence)
		return {**walked, "matches_checkpoint": True}
	if walked["intact"] or walked["entries_verified"] >= sequence:
		head_sequence = current_checkpoint()["sequence"]
		if stored:
			culprit, reason = entry_name(sequence), _(
				"Entry {0} no longer has the checkpoint's hash: the chain up to it was rewritten by someone holding the audit chain's key, or cut back and grown again. History differs at or before this entry."
			).format(sequence)
		else:
			culprit, reason = entry_name(head_sequence + 1), _(
				"The checkpoint records entry {0}, but the chain ends at entry {1}: entries were deleted from its end in the database."
			).format(sequence, head_sequence)
		walked = {**walked, "intact": False, "first_broken_entry": culprit, "reason": reason}
	return {**walked, "matches_checkpoint": False}
