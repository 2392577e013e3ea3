"""Electronic signatures (21 CFR 11.50, 11.70, 11.100, 11.200), one mechanism for every signed act: DHR
release, Change Request approvals, and any workflow action whose transition names a signature meaning.

A signature re-authenticates the signer (password; the authenticator-app code too when Frappe's two-factor
authentication applies to the user) and is stored as an immutable Electronic Signature: who (user and full
name), when, the meaning, the reason, and a SHA-256 hash of the signed document as the signer saw it. It is
sealed into the audit chain (medtrace.audit.audit_chain), which binds it to the trail before and after it.

Failed attempts are kept as Electronic Signature Attempts, even though the failed request is rolled back;
after MedTrace Settings' number of consecutive failures the user cannot sign until a System Manager unlocks
signing (11.300(d): attempts at unauthorised use are detected and reported).

Signing is serialised per user and per document. The user's signing lock (a database named lock) is held
from before the failures are counted until a refused attempt is committed, after the request's rollback; the
user's failure counter row is read FOR UPDATE, so parallel attempts are counted one after the other and the
lockout holds. The signed document's row is locked FOR UPDATE before it is read, so two people signing the
same document at once sign one after the other, and the second sees what the first did (or is refused).

Workflows: a Workflow Transition with an E-Signature Meaning is an electronic signature. The Desk's
workflow buttons go through apply_workflow below (it replaces Frappe's method), which asks for the
credentials; every other way to the signed state is refused by medtrace.signatures.signature_gate.
"""

import hashlib

import frappe
import pyotp
from frappe import _
from frappe.model.document import Document
from frappe.model.workflow import apply_workflow as apply_frappe_workflow
from frappe.model.workflow import get_transitions, get_workflow_name, has_approval_access
from frappe.query_builder import DocType
from frappe.query_builder.functions import Count, Max
from frappe.twofactor import get_verification_method, two_factor_is_enabled
from frappe.utils import cint, cstr, get_fullname, now_datetime
from frappe.utils.password import check_password, decrypt

from medtrace.audit.audit_chain import canonical_json
from medtrace.signatures.separation_of_duties import refuse_duty_breach
from medtrace.signatures.signature_gate import SignatureError, signed_transition, writing_signature_evidence
from medtrace.utils.filters import checked_doctype, checked_object, shown

SIGNATURE = "Electronic Signature"
ATTEMPT = "Electronic Signature Attempt"
MEANINGS = ("Reviewed", "Approved", "Released", "Implemented", "Verified", "Closed", "Rejected")
DEFAULT_LOCKOUT_ATTEMPTS = 3
# Seconds a signing waits for the same user's signing in progress.
SIGNING_LOCK_TIMEOUT = 20
# Bookkeeping that changes without the content changing; the rest of the document is what was signed.
UNSIGNED_FIELDS = frozenset({"modified", "modified_by", "_user_tags", "_comments", "_assign", "_liked_by", "_seen"})


def sign(doctype: str, name: str, meaning: str, password: str | None, reason: str | None = None,
		otp: str | None = None, workflow_action: str | None = None, workflow_state: str | None = None):
	"""Authenticate the session's user and record their signature of the document. Returns the
	Electronic Signature. Raises SignatureError (nothing is recorded but the failed attempt) otherwise."""
	if meaning not in MEANINGS:
		frappe.throw(_("{0} is not a signature meaning; use one of {1}.").format(frappe.bold(meaning), ", ".join(MEANINGS)))
	frappe.get_doc(doctype, name)
	authenticate_signer(doctype, name, meaning, password, otp)
	return record_signature(doctype, name, meaning, reason, workflow_action, workflow_state)


def record_signature(doctype: str, name: str, meaning: str, reason: str | None = None,
		workflow_action: str | None = None, workflow_state: str | None = None):
	"""The Electronic Signature of the authenticated session user, of the document as it is now."""
	user = frappe.session.user
	with writing_signature_evidence():
		return frappe.get_doc(
			{
				"doctype": SIGNATURE,
				"reference_doctype": doctype,
				"reference_name": name,
				"meaning": meaning,
				"reason": (reason or "").strip() or None,
				"signer": user,
				"signer_name": get_fullname(user),
				"signed_on": now_datetime(),
				"content_hash": content_hash(frappe.get_doc(doctype, name)),
				"workflow_action": workflow_action,
				"workflow_state": workflow_state,
				"authentication": _("Password and authenticator code") if otp_required(user) else _("Password"),
			}
		).insert(ignore_permissions=True)


def content_hash(doc) -> str:
	"""SHA-256 of the document and its table rows as stored, without bookkeeping fields."""
	content = {key: value for key, value in doc.as_dict(convert_dates_to_str=True).items() if key not in UNSIGNED_FIELDS}
	for key, value in content.items():
		if isinstance(value, list):
			content[key] = [{k: v for k, v in row.items() if k not in UNSIGNED_FIELDS} for row in value]
	return hashlib.sha256(canonical_json(content).encode()).hexdigest()


# Authentication


def authenticate_signer(doctype: str, name: str, meaning: str, password: str | None, otp: str | None) -> None:
	"""Check the session user's credentials, counting failures under the user's signing lock."""
	user = frappe.session.user
	if user == "Guest":
		frappe.throw(_("Log in to sign."), frappe.PermissionError)
	hold_signing_lock(user)
	failure = None
	try:
		if locked_failure_count(user) >= lockout_attempts():
			frappe.throw(
				_("Electronic signing is locked for {0} after {1} failed attempts. A System Manager can unlock it from the user's record.").format(
					frappe.bold(user), lockout_attempts()
				),
				SignatureError,
				title=_("Signing Locked"),
			)
		if not password:
			frappe.throw(_("Re-enter your password to sign."), SignatureError, title=_("Signature Required"))
		try:
			check_password(user, password, delete_tracker_cache=False)
		except frappe.AuthenticationError:
			failure = _("Wrong password")
		if not failure and otp_required(user):
			if not otp:
				frappe.throw(_("Enter the code of your authenticator app to sign."), SignatureError, title=_("Signature Required"))
			if not otp_matches(user, otp):
				failure = _("Wrong authenticator code")
	except Exception:
		release_signing_lock(user)
		raise
	if failure:
		refuse_attempt(doctype, name, meaning, failure)
	set_failure_count(user, 0)
	# The counter row stays locked until this transaction ends: the user's next signing waits for it.
	release_signing_lock(user)


def otp_required(user: str) -> bool:
	return bool(two_factor_is_enabled(user=user))


def otp_matches(user: str, otp: str) -> bool:
	if get_verification_method() != "OTP App":
		frappe.throw(
			_("Signing with two-factor authentication needs the OTP App method (System Settings › Two Factor Authentication Method)."),
			SignatureError,
		)
	secret = frappe.db.get_default(f"{user}_otpsecret")
	if not secret:
		frappe.throw(
			_("Set up your authenticator app first: log in once with two-factor authentication."), SignatureError
		)
	return pyotp.TOTP(decrypt(secret, key=f"{user}.otpsecret")).verify(str(otp).strip(), valid_window=1)


def refuse_attempt(doctype: str, name: str, meaning: str, failure: str) -> None:
	"""Record the failed attempt so that it outlives the request's rollback, and refuse the signature."""
	user = frappe.session.user
	attempt = {
		"doctype": ATTEMPT,
		"user": user,
		"outcome": "Failed",
		"failure": failure,
		"reference_doctype": doctype,
		"reference_name": name,
		"meaning": meaning,
		"ip_address": getattr(frappe.local, "request_ip", None),
	}
	failures = record_failed_attempt(attempt)
	# A refused request is rolled back: the attempt is written again after the rollback, and the user's signing
	# lock is let go only once it is committed. Deferred to the end of the rollback's callbacks, as its commit
	# drops the ones still waiting.
	frappe.db.after_rollback.add(lambda: frappe.db.after_rollback.add(lambda: keep_attempt(attempt)))
	frappe.db.after_commit.add(lambda: release_signing_lock(user))
	left = lockout_attempts() - failures
	message = _("{0}: the signature was not recorded.").format(failure)
	if left > 0:
		message += " " + _("{0} more failed attempts lock your signing.").format(left)
	else:
		message += " " + _("Signing is now locked; ask a System Manager to unlock it.")
	frappe.throw(message, SignatureError, title=_("Signature Refused"))


def record_failed_attempt(attempt: dict) -> int:
	"""Write the attempt and count it; returns the user's consecutive failures."""
	with writing_signature_evidence():
		frappe.get_doc(attempt).insert(ignore_permissions=True)
	user = attempt["user"]
	key = signing_key(user)
	if frappe.db.sql("select current from `tabSeries` where name = %s for update", key):
		frappe.db.sql("update `tabSeries` set current = current + 1 where name = %s", key)
	else:
		frappe.db.sql("insert into `tabSeries` (name, current) values (%s, %s)", (key, consecutive_failures(user)))
	return cint(frappe.db.sql("select current from `tabSeries` where name = %s", key)[0][0])


def keep_attempt(attempt: dict) -> None:
	try:
		record_failed_attempt(attempt)
		frappe.db.commit()
	finally:
		release_signing_lock(attempt["user"])


def lockout_attempts() -> int:
	return cint(frappe.db.get_single_value("MedTrace Settings", "signature_lockout_attempts")) or DEFAULT_LOCKOUT_ATTEMPTS


# The lockout: consecutive failures per user


def signing_key(user: str) -> str:
	"""Names the user's signing lock, and their row in Frappe's counter table (tabSeries) holding their
	consecutive failed signatures."""
	return "medtrace-esign-" + hashlib.sha1(user.encode()).hexdigest()


def consecutive_failures(user: str) -> int:
	"""Failed attempts since the user's last signature or unlock, from the records: the counter's first value."""
	Signature, Attempt = DocType(SIGNATURE), DocType(ATTEMPT)
	last_signature = frappe.qb.from_(Signature).select(Max(Signature.creation)).where(Signature.signer == user).run()[0][0]
	last_unlock = (
		frappe.qb.from_(Attempt).select(Max(Attempt.creation)).where((Attempt.user == user) & (Attempt.outcome == "Unlocked")).run()[0][0]
	)
	since = max(filter(None, (last_signature, last_unlock)), default=None)
	query = frappe.qb.from_(Attempt).select(Count("*")).where((Attempt.user == user) & (Attempt.outcome == "Failed"))
	if since:
		query = query.where(Attempt.creation > since)
	return query.run()[0][0]


def locked_failure_count(user: str) -> int:
	"""The user's consecutive failures, read FOR UPDATE: the latest committed count, whatever this
	transaction read before."""
	key = signing_key(user)
	if not frappe.db.sql("select name from `tabSeries` where name = %s", key):
		frappe.db.sql("insert ignore into `tabSeries` (name, current) values (%s, %s)", (key, consecutive_failures(user)))
	return cint(frappe.db.sql("select current from `tabSeries` where name = %s for update", key)[0][0])


def set_failure_count(user: str, count: int) -> None:
	frappe.db.sql(
		"insert into `tabSeries` (name, current) values (%s, %s) on duplicate key update current = values(current)",
		(signing_key(user), count),
	)


def signing_locked(user: str) -> bool:
	stored = frappe.db.sql("select current from `tabSeries` where name = %s", signing_key(user))
	failures = cint(stored[0][0]) if stored else consecutive_failures(user)
	return failures >= lockout_attempts()


def hold_signing_lock(user: str) -> None:
	"""The user's signing lock, a named lock of this database connection: it outlives the transaction's
	rollback, so a refused attempt is committed before the user's next attempt is counted."""
	lock = signing_key(user)
	if frappe.db.sql("select is_used_lock(%s) = connection_id()", lock)[0][0]:
		return
	if not frappe.db.sql("select get_lock(%s, %s)", (lock, SIGNING_LOCK_TIMEOUT))[0][0]:
		frappe.throw(
			_("Another signature of yours is being recorded; sign again in a moment."), SignatureError, title=_("Signature Busy")
		)


def release_signing_lock(user: str) -> None:
	frappe.db.sql("select release_lock(%s)", signing_key(user))


@frappe.whitelist()
def get_signing_status() -> dict:
	"""What the signature dialog asks for, and whether the user may sign at all."""
	user = frappe.session.user
	if user == "Guest":
		frappe.throw(_("Log in to sign."), frappe.PermissionError)
	return {"otp_required": otp_required(user), "locked": signing_locked(user), "full_name": get_fullname(user)}


@frappe.whitelist(methods=["POST"])
def unlock_signing(user: str) -> None:
	frappe.only_for("System Manager")
	if not frappe.db.exists("User", user):
		frappe.throw(_("User {0} does not exist.").format(frappe.bold(user)))
	if not signing_locked(user):
		frappe.throw(_("Electronic signing is not locked for {0}.").format(frappe.bold(user)))
	with writing_signature_evidence():
		frappe.get_doc(
			{"doctype": ATTEMPT, "user": user, "outcome": "Unlocked", "unlocked_by": frappe.session.user}
		).insert(ignore_permissions=True)
	set_failure_count(user, 0)


@frappe.whitelist()
def is_signing_locked(user: str) -> bool:
	frappe.only_for("System Manager")
	return signing_locked(user)


# Manifestation


@frappe.whitelist()
def get_signatures(doctype: str, name: str) -> list[dict]:
	frappe.has_permission(checked_doctype(doctype, _("Document Type")), "read", doc=name, throw=True)
	return signature_manifest(doctype, name)


def signature_manifest(doctype: str, name: str) -> list[dict]:
	"""The signatures of a document, oldest first, for forms and print formats (a Jinja method)."""
	return frappe.get_all(
		SIGNATURE,
		filters={"reference_doctype": doctype, "reference_name": name},
		fields=["name", "signer", "signer_name", "meaning", "reason", "signed_on", "workflow_action", "content_hash"],
		order_by="signed_on asc, creation asc",
	)


# Workflows


@frappe.whitelist(methods=["POST"])
def apply_workflow(doc, action: str, password: str | None = None, reason: str | None = None, otp: str | None = None):
	"""Frappe's apply_workflow, with an electronic signature where the transition names a meaning."""
	# The Desk sends the document as JSON; server code passes the Document.
	values = doc.as_dict() if isinstance(doc, Document) else checked_object(doc, _("Document"))
	doctype = checked_doctype(values.get("doctype"), _("Document Type"))
	if not isinstance(values.get("name"), str) or not frappe.db.exists(doctype, values["name"]):
		frappe.throw(_("{0} {1} does not exist.").format(_(doctype), shown(values.get("name"))), frappe.DoesNotExistError)
	document = frappe.get_doc(values)
	frappe.has_permission(document.doctype, "read", document.name, throw=True)
	locked = lock_document(document.doctype, document.name)
	document.load_from_db()
	refuse_stale(document, locked.modified)
	transition = allowed_transition(document, action)
	refuse_duty_breach(document, action)
	if not transition.get("medtrace_signature_meaning"):
		return apply_frappe_workflow(doc, action)
	# Refusals the document can tell before the signature (the signer's role, unfinished work) come first.
	before_signing = getattr(document, "before_signing", None)
	if before_signing:
		before_signing(transition)
	signature = sign(
		document.doctype, document.name, transition.medtrace_signature_meaning, password, reason, otp,
		workflow_action=action, workflow_state=transition.next_state,
	)
	# A document may gather several signatures before it moves on (a Change Request's approvals).
	collect = getattr(document, "collect_signature", None)
	if collect and not collect(signature, transition):
		return frappe.get_doc(document.doctype, document.name)
	with signed_transition(document, transition.next_state):
		return apply_frappe_workflow(doc, action)


def lock_document(doctype: str, name: str, fields: tuple = ()) -> frappe._dict:
	"""Lock the document's row until this transaction ends (a second signer waits here), and return its
	latest committed values."""
	locked = frappe.db.get_value(doctype, name, ["modified", *fields], as_dict=True, for_update=True)
	if not locked:
		frappe.throw(_("{0} {1} not found").format(_(doctype), name), frappe.DoesNotExistError)
	return locked


def refuse_stale(document, modified) -> None:
	"""A signing that waited for another one of the same document may have read it before that one was
	committed; it must not sign (or overwrite) what it did not see."""
	if cstr(document.modified) != cstr(modified):
		frappe.throw(
			_("{0} {1} was changed by someone else while you were signing it; reload it and sign again.").format(
				_(document.doctype), document.name
			),
			frappe.TimestampMismatchError,
			title=_("Document Changed"),
		)


def allowed_transition(document, action: str):
	"""The transition the user may take with the action, checked before any password is asked for."""
	transitions = [t for t in get_transitions(document) if t.action == action]
	if not transitions:
		roles = sorted(
			{
				row.allowed
				for row in frappe.get_doc("Workflow", get_workflow_name(document.doctype)).transitions
				if row.action == action and row.state == document.get(workflow_state_field(document.doctype))
			}
		)
		if roles:
			frappe.throw(
				_("{0} cannot {1} {2} {3}: the action belongs to {4}.").format(
					frappe.bold(get_fullname(frappe.session.user)), _(action), _(document.doctype), document.name,
					", ".join(_(role) for role in roles),
				),
				frappe.PermissionError,
				title=_("Not Allowed"),
			)
		frappe.throw(_("{0} is not an action of {1} {2} in its present state.").format(frappe.bold(_(action)), _(document.doctype), document.name))
	permitted = [t for t in transitions if has_approval_access(frappe.session.user, document, t)]
	if not permitted:
		frappe.throw(
			_("You created {0} {1}: another person must {2} it.").format(_(document.doctype), document.name, _(action)),
			frappe.PermissionError,
			title=_("Self-Approval Not Allowed"),
		)
	return permitted[0]


def workflow_state_field(doctype: str) -> str:
	return frappe.get_cached_value("Workflow", get_workflow_name(doctype), "workflow_state_field")
