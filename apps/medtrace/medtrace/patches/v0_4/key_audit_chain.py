"""Audit chains sealed before entries were keyed (plain SHA-256) are re-sealed with the site's new key.

The unkeyed chain is verified first and what was found goes into the chain as its next entry, sealed
with the key: a break that predates the key stays on record instead of being laundered by the re-seal."""

import hashlib

import frappe
from frappe.query_builder import DocType
from frappe.utils import now

from medtrace.audit.audit_chain import (
	CHAIN,
	ENTRY,
	GENESIS_HASH,
	HASHED_FIELDS,
	PAGE_SIZE,
	append_entries,
	canonical_json,
	ensure_chain_key,
	entry_payload,
	keyed_seal,
	lock_head,
	move_head,
	walk_chain,
)

KEYED_EVENT = "Sealed with Key"


def execute():
	# A site installed before the audit chain gets it, keyed, from model sync and after_migrate.
	if not frappe.db.table_exists(ENTRY):
		return
	ensure_chain_key()
	head = lock_head()
	if not frappe.db.count(ENTRY):
		return
	unkeyed = walk_chain(seal=unkeyed_hash)
	sequence, entry_hash, resealed = reseal(keyed_seal())
	move_head(head, sequence, entry_hash)
	append_entries(
		[
			{
				"event": KEYED_EVENT,
				"ref_doctype": CHAIN,
				"ref_name": CHAIN,
				"user": frappe.session.user,
				"timestamp": now(),
				"source_doctype": None,
				"source_name": None,
				"content": canonical_json(
					{
						"entries_resealed": resealed,
						"unkeyed_head_hash": head.get("head_hash"),
						"unkeyed_verification": unkeyed,
					}
				),
			}
		]
	)


def unkeyed_hash(entry: dict) -> str:
	return hashlib.sha256(entry_payload(entry)).hexdigest()


def reseal(seal) -> tuple[int, str, int]:
	"""Every entry's hash recomputed with `seal`, in sequence order, each linked to the one before."""
	Entry = DocType(ENTRY)
	query = frappe.qb.from_(Entry).select(Entry.name, *(Entry[field] for field in HASHED_FIELDS)).orderby(Entry.sequence).limit(PAGE_SIZE)
	last, previous_hash, resealed = 0, GENESIS_HASH, 0
	while page := query.where(Entry.sequence > last).run(as_dict=True):
		for entry in page:
			entry["previous_hash"] = previous_hash
			previous_hash = entry["entry_hash"] = seal(entry)
		# An UPDATE per row would take hours on a chain of millions of entries; in batches of 100, minutes.
		frappe.db.bulk_update(
			ENTRY,
			{entry["name"]: {"previous_hash": entry["previous_hash"], "entry_hash": entry["entry_hash"]} for entry in page},
			update_modified=False,
		)
		resealed += len(page)
		last = page[-1]["sequence"]
	return last, previous_hash, resealed
