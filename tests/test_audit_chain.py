"""Audit trail and its tamper evidence: changes, creations and deletions of audited records are versioned
with how they arrived and sealed into a keyed hash chain; verification names the first entry broken by
an edit or deletion made directly in the database, and alerts."""

import json
import threading
import time

import frappe
import pytest
from frappe.query_builder import DocType
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from factories import make_device_identifier, make_item
from medtrace.audit import audit_chain
from medtrace.audit.audit_chain import CHAINED_SOURCES, ChainedSource, seal_pending, verify_audit_chain
from medtrace.audit.audit_trail import arrival, via_change_request
from medtrace.audit.audited import is_audited
from medtrace.setup.permissions import QUALITY_APPROVER, QUALITY_ENGINEER
from test_production_udi import make_batch, released
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-AUD-002")


def edit_in_database(doctype: str, name: str, **values) -> None:
	"""An UPDATE straight in the database, as someone going around MedTrace would run it."""
	table = DocType(doctype)
	query = frappe.qb.update(table).where(table.name == name)
	for field, value in values.items():
		query = query.set(table[field], value)
	query.run()


def delete_in_database(doctype: str, names: list[str]) -> None:
	table = DocType(doctype)
	frappe.qb.from_(table).delete().where(table.name.isin(names or ["-"])).run()


def entries_of(doctype: str, name: str) -> list[dict]:
	return frappe.get_all(
		"Audit Chain Entry", filters={"ref_doctype": doctype, "ref_name": name}, fields=["*"], order_by="sequence"
	)


def changed_device_identifier():
	"""A DI created and then changed, both sealed as a commit would seal them."""
	di = make_device_identifier()
	di.brand_name = "Renamed Brand"
	di.save()
	seal_pending()
	return di, entries_of("UDI Device Identifier", di.name)


def version_data(entry) -> dict:
	return json.loads(json.loads(entry.content)["data"])


@pytest.mark.requirement("MT-AUD-001", "MT-AUD-003")
def test_medtrace_and_extended_erpnext_doctypes_are_audited_and_track_changes():
	medtrace_doctypes = frappe.get_all("DocType", filters={"module": ("in", frappe.get_module_list("medtrace"))}, pluck="name")
	extended = {
		dt
		for dt in frappe.get_all("Custom Field", filters={"module": ("in", frappe.get_module_list("medtrace"))}, pluck="dt")
		if not frappe.get_meta(dt).istable  # tables are versioned with their parent
	}
	assert {"Batch", "Serial No"} <= extended
	for doctype in [*medtrace_doctypes, *extended]:
		assert frappe.get_meta(doctype).track_changes, doctype
		assert is_audited(doctype) or doctype in ("Audit Chain", "Audit Chain Entry"), doctype
	assert not is_audited("Item")


@pytest.mark.requirement("MT-AUD-001")
def test_creation_and_change_are_versioned_and_sealed():
	_di, entries = changed_device_identifier()
	assert [entry.event for entry in entries] == ["Created", "Changed"]
	created, changed = entries
	assert version_data(created)["created_by"] == "Administrator"
	data = version_data(changed)
	assert ["brand_name", "TestBrand", "Renamed Brand"] in data["changed"]
	assert data["medtrace_channel"] == "Console"
	assert changed.previous_hash == created.entry_hash
	assert changed.sequence == created.sequence + 1
	assert changed.entry_hash == audit_chain.keyed_seal()(changed)


@pytest.mark.requirement("MT-AUD-001")
def test_udi_fields_medtrace_adds_to_batch_are_sealed():
	item = make_item(has_batch_no=1)
	di = released(make_device_identifier(item=item.name))
	batch = make_batch(item.name, "AUD-L1", expiry_date="2030-01-31")
	batch.expiry_date = "2031-01-31"
	batch.save()
	seal_pending()
	changed = entries_of("Batch", batch.name)[-1]
	assert changed.event == "Changed"
	changes = {field: (old, new) for field, old, new in version_data(changed)["changed"]}
	assert changes["udi_element_string"] == (f"(01){di.name}(17)300131(10)AUD-L1", f"(01){di.name}(17)310131(10)AUD-L1")


def test_untouched_chain_verifies_clean():
	changed_device_identifier()
	result = verify_audit_chain(alert=False)
	assert result["intact"], result
	assert result["entries_verified"] >= 2
	assert frappe.db.get_single_value("Audit Chain", "last_verification") == "Intact"


def test_version_edited_in_the_database_is_named():
	_di, (_created, changed) = changed_device_identifier()
	data = frappe.db.get_value("Version", changed.source_name, "data")
	edit_in_database("Version", changed.source_name, data=data.replace("Renamed Brand", "Forged Brand"))
	result = verify_audit_chain(alert=False)
	assert not result["intact"]
	assert result["first_broken_entry"] == changed.name
	assert changed.source_name in result["reason"] and "altered" in result["reason"]
	assert result["entries_verified"] == changed.sequence - 1


def test_version_deleted_in_the_database_is_named():
	_di, (created, _changed) = changed_device_identifier()
	delete_in_database("Version", [created.source_name])
	result = verify_audit_chain(alert=False)
	assert result["first_broken_entry"] == created.name
	assert "deleted" in result["reason"]


def test_versions_frappe_deletes_with_their_record_are_accepted_and_stay_in_the_trail():
	from frappe.model.delete_doc import delete_dynamic_links
	from medtrace.audit.report.audit_trail.audit_trail import execute

	di, _entries = changed_device_identifier()
	frappe.delete_doc("UDI Device Identifier", di.name)
	delete_dynamic_links("UDI Device Identifier", di.name)  # what Frappe enqueues after the commit
	seal_pending()
	assert not frappe.db.exists("Version", {"ref_doctype": "UDI Device Identifier", "docname": di.name})
	assert [e.event for e in entries_of("UDI Device Identifier", di.name)] == ["Created", "Changed", "Deleted"]
	assert verify_audit_chain(alert=False)["intact"]

	_columns, rows = execute({"from_date": frappe.utils.today(), "to_date": frappe.utils.today(), "ref_name": di.name})
	assert [(row["event"], row.get("field"), row.get("new_value")) for row in rows] == [
		("Created", None, None),
		("Changed", "Brand / Trade Name", "Renamed Brand"),
		("Deleted", None, None),
	]


@pytest.mark.requirement("MT-AUD-001")
def test_renamed_record_keeps_a_verifiable_trail():
	from frappe.model.rename_doc import rename_doc

	rule = frappe.get_doc(
		{"doctype": "Data Quality Rule", "rule_name": "MT Audit Rename Me", "document_type": "Batch",
		 "filters_json": '[["Batch", "item", "=", "-"]]', "responsible_role": QUALITY_ENGINEER}
	).insert()
	rule.severity = "Minor"
	rule.save()
	seal_pending()
	rename_doc("Data Quality Rule", rule.name, "MT Audit Renamed", force=True)
	seal_pending()
	before = entries_of("Data Quality Rule", "MT Audit Rename Me")
	assert [e.event for e in before] == ["Created", "Changed"]
	assert entries_of("Data Quality Rule", "MT Audit Renamed")[-1].event == "Renamed"
	assert frappe.db.get_value("Version", before[0].source_name, "docname") == "MT Audit Renamed"  # moved by Frappe
	assert verify_audit_chain(alert=False)["intact"]


def test_entry_edited_in_the_database_is_named():
	_di, (created, _changed) = changed_device_identifier()
	edit_in_database("Audit Chain Entry", created.name, user="someone.else@example.com")
	result = verify_audit_chain(alert=False)
	assert result["first_broken_entry"] == created.name
	assert "altered" in result["reason"]


def test_entry_rewritten_with_a_matching_hash_is_named():
	_di, (created, _changed) = changed_device_identifier()
	forged = {**created, "user": "someone.else@example.com"}
	edit_in_database("Audit Chain Entry", created.name, user=forged["user"], entry_hash=audit_chain.keyed_seal()(forged))
	result = verify_audit_chain(alert=False)
	assert result["first_broken_entry"] == created.name
	assert "rewritten" in result["reason"]


def test_entry_deleted_inside_the_chain_is_detected():
	_di, (created, changed) = changed_device_identifier()
	delete_in_database("Audit Chain Entry", [created.name])
	result = verify_audit_chain(alert=False)
	assert result["first_broken_entry"] == changed.name
	assert "deleted or renumbered" in result["reason"]


def test_entries_deleted_at_the_end_of_the_chain_are_detected():
	_di, (created, changed) = changed_device_identifier()
	delete_in_database("Audit Chain Entry", [changed.name])
	result = verify_audit_chain(alert=False)
	assert result["first_broken_entry"] == changed.name
	assert "at its end were deleted" in result["reason"]


def test_broken_chain_alerts_system_managers_and_quality_approvers(user_with_role):
	approver = user_with_role(QUALITY_APPROVER)
	_di, (created, _changed) = changed_device_identifier()
	delete_in_database("Version", [created.source_name])
	verify_audit_chain()
	assert frappe.db.exists("Notification Log", {"for_user": approver, "subject": ("like", f"%{created.name}%"), "type": "Alert"})
	assert frappe.db.exists("Notification Log", {"for_user": "Administrator", "subject": ("like", f"%{created.name}%")})
	assert frappe.db.exists("Error Log", {"method": "Audit chain broken", "error": ("like", f"%{created.name}%")})
	assert frappe.db.get_single_value("Audit Chain", "first_broken_entry") == created.name


@pytest.mark.requirement("MT-PRM-001")
def test_verify_now_is_for_system_managers_and_quality_approvers(user_with_role):
	from medtrace.audit.audit_chain import verify_audit_chain_now

	frappe.set_user(user_with_role(QUALITY_ENGINEER))
	with pytest.raises(frappe.PermissionError):
		verify_audit_chain_now()
	frappe.set_user(user_with_role(QUALITY_APPROVER))
	assert verify_audit_chain_now() == {"queued": True}


def fake_request(path: str, **headers) -> Request:
	return Request(EnvironBuilder(path=path, method="POST", headers=headers).get_environ())


@pytest.mark.parametrize(
	("context", "expected"),
	[
		({"request": fake_request("/api/method/frappe.desk.form.save.savedocs", **{"X-Frappe-CSRF-Token": "t"})},
		 ("Desk", "POST /api/method/frappe.desk.form.save.savedocs")),
		({"request": fake_request("/api/resource/Batch/L1", Authorization="token key:secret")}, ("REST API", "POST /api/resource/Batch/L1")),
		({"job": frappe._dict(method="frappe.core.doctype.scheduled_job_type.scheduled_job_type.run_scheduled_job",
		                      kwargs={"job_type": "medtrace.quality.data_quality.evaluate_all_rules"})},
		 ("Scheduled Job", "medtrace.quality.data_quality.evaluate_all_rules")),
		({"job": frappe._dict(method="medtrace.medtrace_integrations.inbound.process_message", kwargs={})},
		 ("Background Job", "medtrace.medtrace_integrations.inbound.process_message")),
		({"flags": {"in_patch": True}}, ("Patch", None)),
		({}, ("Console", None)),
	],
)
@pytest.mark.requirement("MT-AUD-001")
def test_channel_of_a_change(monkeypatch, context, expected):
	# monkeypatch removes them again: later tests must find no request, as a console has none.
	monkeypatch.setattr(frappe.local, "request", context.get("request"), raising=False)
	monkeypatch.setattr(frappe.local, "job", context.get("job"), raising=False)
	for flag, value in context.get("flags", {}).items():
		monkeypatch.setitem(frappe.local.flags, flag, value)
	assert arrival() == expected


@pytest.mark.requirement("MT-AUD-001")
def test_rest_change_records_channel_request_and_ip(monkeypatch):
	di = make_device_identifier()
	with monkeypatch.context() as request_context:
		request_context.setattr(frappe.local, "request", fake_request(f"/api/resource/UDI Device Identifier/{di.name}", Authorization="token key:secret"), raising=False)
		request_context.setattr(frappe.local, "request_ip", "10.1.2.3", raising=False)
		di.brand_name = "Via REST"
		di.save()
	seal_pending()
	data = version_data(entries_of("UDI Device Identifier", di.name)[-1])
	assert data["medtrace_channel"] == "REST API"
	assert data["medtrace_request"] == f"POST /api/resource/UDI Device Identifier/{di.name}"
	assert data["medtrace_ip"] == "10.1.2.3"


@pytest.mark.requirement("MT-AUD-001", "MT-CC-001")
def test_change_request_is_recorded_and_reported():
	from medtrace.audit.report.audit_trail.audit_trail import execute

	di = make_device_identifier()
	with via_change_request("CR-2026-0042"):
		di.brand_name = "Under Change Control"
		di.save()
	seal_pending()
	assert version_data(entries_of("UDI Device Identifier", di.name)[-1])["medtrace_change_request"] == "CR-2026-0042"
	_columns, rows = execute({"from_date": frappe.utils.today(), "to_date": frappe.utils.today(), "ref_doctype": "UDI Device Identifier", "ref_name": di.name})
	change = next(row for row in rows if row["event"] == "Changed")
	assert (change["change_request"], change["channel"], change["old_value"], change["new_value"]) == (
		"CR-2026-0042", "Console", "TestBrand", "Under Change Control")


@pytest.mark.requirement("MT-AUD-001")
def test_change_request_written_into_the_version_by_its_author_is_kept():
	di = make_device_identifier()
	version = frappe.get_doc({
		"doctype": "Version", "ref_doctype": "UDI Device Identifier", "docname": di.name,
		"data": json.dumps({"changed": [["brand_name", "TestBrand", "X"]], "medtrace_change_request": "CR-7"}),
	}).insert(ignore_permissions=True)
	assert json.loads(version.data)["medtrace_change_request"] == "CR-7"


@pytest.mark.requirement("MT-AUD-001")
def test_audit_trail_report_filters_and_permission(user_with_role):
	from medtrace.audit.report.audit_trail.audit_trail import execute

	di, _entries = changed_device_identifier()
	today = frappe.utils.today()
	_columns, rows = execute({"from_date": today, "to_date": today, "user": "Administrator", "ref_name": di.name})
	assert {row["ref_name"] for row in rows} == {di.name}
	assert execute({"from_date": frappe.utils.add_days(today, 1), "to_date": frappe.utils.add_days(today, 2), "ref_name": di.name})[1] == []
	with pytest.raises(frappe.ValidationError, match="is after"):
		execute({"from_date": today, "to_date": frappe.utils.add_days(today, -1)})

	frappe.set_user(user_with_role(QUALITY_APPROVER))
	report = frappe.call("frappe.desk.query_report.run", report_name="Audit Trail", filters={"from_date": today, "to_date": today, "ref_name": di.name})
	assert {row["event"] for row in report["result"]} == {"Created", "Changed"}
	frappe.set_user(user_with_role(QUALITY_ENGINEER))
	with pytest.raises(frappe.PermissionError):
		frappe.call("frappe.desk.query_report.run", report_name="Audit Trail", filters={"from_date": today, "to_date": today})


@pytest.mark.requirement("MT-AUD-003")
def test_track_changes_of_audited_doctypes_cannot_be_switched_off():
	for doctype in ("Batch", "UDI Device Identifier"):
		with pytest.raises(frappe.ValidationError, match="must stay tracked"):
			frappe.make_property_setter(
				{"doctype": doctype, "doctype_or_field": "DocType", "property": "track_changes", "value": "0", "property_type": "Check"}
			)
		assert not frappe.db.exists("Property Setter", {"doc_type": doctype, "property": "track_changes"})


def test_a_doctype_listed_in_the_registry_is_chained(monkeypatch):
	"""What another doctype (an electronic signature) needs to be chained: one entry in CHAINED_SOURCES."""
	monkeypatch.setitem(
		CHAINED_SOURCES,
		"ToDo",
		ChainedSource(
			reference=("reference_type", "reference_name"),
			fields=("reference_type", "reference_name", "description", "allocated_to", "owner", "creation"),
			event="Assigned",
			audited_records_only=False,
		),
	)
	todo = frappe.get_doc({"doctype": "ToDo", "description": "Sign the DHR", "allocated_to": "Administrator"}).insert()
	seal_pending()
	entry = frappe.get_all("Audit Chain Entry", filters={"source_doctype": "ToDo", "source_name": todo.name}, fields=["name", "event"])[0]
	assert entry.event == "Assigned"
	edit_in_database("ToDo", todo.name, description="Forged")
	assert verify_audit_chain(alert=False)["first_broken_entry"] == entry.name


def test_rolled_back_changes_are_not_sealed():
	di = make_device_identifier()
	frappe.db.rollback()
	assert getattr(frappe.local, "medtrace_chain_queue", None) is None
	assert not entries_of("UDI Device Identifier", di.name)


def test_concurrent_commits_do_not_fork_the_chain(monkeypatch, test_site):
	"""Two writers commit at the same moment: the second waits for the first's entry and links to it."""
	bench = frappe.local.sites_path
	frappe.db.rollback()
	head_before = dict(audit_chain.head_query().run())
	original_move_head = audit_chain.move_head

	def move_head_slowly(*args):
		time.sleep(0.6)  # holds the head lock long enough for the other writer to queue behind it
		original_move_head(*args)

	monkeypatch.setattr(audit_chain, "move_head", move_head_slowly)
	barrier, versions, errors = threading.Barrier(2), [], []

	def writer(number: int) -> None:
		frappe.init(site=test_site, sites_path=bench)
		frappe.connect()
		frappe.set_user("Administrator")
		try:
			version = frappe.get_doc({
				"doctype": "Version", "ref_doctype": "MedTrace Settings", "docname": "MedTrace Settings",
				"data": json.dumps({"changed": [["digital_link_domain", "id.gs1.org", f"writer{number}.example.com"]]}),
			}).insert(ignore_permissions=True)
			barrier.wait(timeout=30)
			frappe.db.commit()
			versions.append(version.name)
		except Exception as error:
			errors.append(error)
		finally:
			frappe.destroy()

	threads = [threading.Thread(target=writer, args=(number,)) for number in (1, 2)]
	started = time.monotonic()
	try:
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join(timeout=60)
		elapsed = time.monotonic() - started
		frappe.db.rollback()
		sealed = frappe.get_all(
			"Audit Chain Entry", filters={"source_name": ("in", versions)}, fields=["*"], order_by="sequence"
		)
		assert not errors, errors
		assert len(sealed) == 2
		first, second = sealed
		assert second.sequence == first.sequence + 1
		assert second.previous_hash == first.entry_hash
		assert first.previous_hash == (head_before["head_hash"] or audit_chain.GENESIS_HASH)  # an empty chain starts at genesis
		assert elapsed >= 1.2, "the second writer must have waited for the first one's lock"
		assert verify_audit_chain(alert=False)["intact"]
	finally:
		# Both writers committed to the site's real chain: take their entries off its end again.
		frappe.db.rollback()
		delete_in_database("Audit Chain Entry", frappe.get_all("Audit Chain Entry", {"source_name": ("in", versions or ["-"])}, pluck="name"))
		delete_in_database("Version", versions)
		original_move_head(audit_chain.lock_head(), int(head_before["head_sequence"]), head_before["head_hash"])
		frappe.db.commit()
