"""Electronic signatures (21 CFR 11.50, 11.70, 11.100, 11.200), one mechanism for every signed act: DHR
release, Change Request approvals, and any workflow action whose transition names a signature meaning.

A signature re-authenticates the signer (password; the authenticator-app code too when Frappe's two-factor
authentication applies to the user) and is stored as an immutable Electronic Signature: who (user and full
name), when, the meaning, the reason, and a SHA-256 hash of the signed document as the signer saw it. It is
sealed into the audit chain (medtrace.quality.audit_chain), which binds it to the trail before and after it.

Failed attempts are kept as Electronic Signature Attempts, even though the failed request is rolled back;
after MedTrace Settings' number of consecutive failures the user cannot sign until a System Manager unlocks
signing (11.300(d): attempts at unauthorised use are detected and reported).

Workflows: a Workflow Transition with an E-Signature Meaning is an electronic signature. The Desk's
workflow buttons go through apply_workflow below (it replaces Frappe's method), which asks for the
credentials; a transition requiring a signature made any other way (a plain save of the state field, a
script) is refused by refuse_unsigned_transition.
"""

import hashlib
from contextlib import contextmanager

import frappe
import pyotp
from frappe import _
from frappe.model.workflow import apply_workflow as apply_frappe_workflow
from frappe.model.workflow import get_transitions, get_workflow_name, has_approval_access
from frappe.query_builder import DocType
from frappe.query_builder.functions import Count, Max
from frappe.twofactor import get_verification_method, two_factor_is_enabled
from frappe.utils import cint, get_fullname, now_datetime
from frappe.utils.password import check_password, decrypt

from medtrace.quality.audit_chain import canonical_json

SIGNATURE = "Electronic Signature"
ATTEMPT = "Electronic Signature Attempt"
MEANINGS = ("Reviewed", "Approved", "Released", "Implemented", "Verified", "Closed", "Rejected")
DEFAULT_LOCKOUT_ATTEMPTS = 3
# Bookkeeping that changes without the content changing; the rest of the document is what was signed.
UNSIGNED_FIELDS = frozenset({"modified", "modified_by", "_user_tags", "_comments", "_assign", "_liked_by", "_seen"})


class SignatureError(frappe.ValidationError):
	"""A signature that could not be made: missing or wrong credentials, or signing locked."""


def sign(doctype: str, name: str, meaning: str, password: str | None, reason: str | None = None,
		otp: str | None = None, workflow_action: str | None = None, workflow_state: str | None = None):
	"""Authenticate the session's user and record their signature of the document. Returns the
	Electronic Signature. Raises SignatureError (nothing is recorded but the failed attempt) otherwise."""
	if meaning not in MEANINGS:
		frappe.throw(_("{0} is not a signature meaning; use one of {1}.").format(frappe.bold(meaning), ", ".join(MEANINGS)))
	doc = frappe.get_doc(doctype, name)
	authenticate_signer(doctype, name, meaning, password, otp)
	user = frappe.session.user
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
			"content_hash": content_hash(doc),
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
	user = frappe.session.user
	if user == "Guest":
		frappe.throw(_("Log in to sign."), frappe.PermissionError)
	if signing_locked(user):
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
		refuse_attempt(doctype, name, meaning, _("Wrong password"))
	if otp_required(user):
		if not otp:
			frappe.throw(_("Enter the code of your authenticator app to sign."), SignatureError, title=_("Signature Required"))
		if not otp_matches(user, otp):
			refuse_attempt(doctype, name, meaning, _("Wrong authenticator code"))


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
	attempt = {
		"doctype": ATTEMPT,
		"user": frappe.session.user,
		"outcome": "Failed",
		"failure": failure,
		"reference_doctype": doctype,
		"reference_name": name,
		"meaning": meaning,
		"ip_address": getattr(frappe.local, "request_ip", None),
	}
	frappe.get_doc(attempt).insert(ignore_permissions=True)
	# A refused request is rolled back; the attempt is written again, on its own, after the rollback.
	frappe.db.after_rollback.add(lambda: keep_attempt(attempt))
	left = lockout_attempts() - consecutive_failures(frappe.session.user)
	message = _("{0}: the signature was not recorded.").format(failure)
	if left > 0:
		message += " " + _("{0} more failed attempts lock your signing.").format(left)
	else:
		message += " " + _("Signing is now locked; ask a System Manager to unlock it.")
	frappe.throw(message, SignatureError, title=_("Signature Refused"))


def keep_attempt(attempt: dict) -> None:
	frappe.get_doc(attempt).insert(ignore_permissions=True)
	frappe.db.commit()


def lockout_attempts() -> int:
	return cint(frappe.db.get_single_value("MedTrace Settings", "signature_lockout_attempts")) or DEFAULT_LOCKOUT_ATTEMPTS


def consecutive_failures(user: str) -> int:
	"""Failed attempts since the user's last signature or unlock."""
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


def signing_locked(user: str) -> bool:
	return consecutive_failures(user) >= lockout_attempts()


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
	frappe.get_doc(
		{"doctype": ATTEMPT, "user": user, "outcome": "Unlocked", "unlocked_by": frappe.session.user}
	).insert(ignore_permissions=True)


@frappe.whitelist()
def is_signing_locked(user: str) -> bool:
	frappe.only_for("System Manager")
	return signing_locked(user)


# Manifestation


@frappe.whitelist()
def get_signatures(doctype: str, name: str) -> list[dict]:
	frappe.has_permission(doctype, "read", doc=name, throw=True)
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
	document = frappe.get_doc(frappe.parse_json(doc))
	document.load_from_db()
	transition = allowed_transition(document, action)
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


@contextmanager
def signed_transition(document, next_state: str):
	previous = frappe.flags.medtrace_signed_transition
	frappe.flags.medtrace_signed_transition = (document.doctype, document.name, next_state)
	try:
		yield
	finally:
		frappe.flags.medtrace_signed_transition = previous


def refuse_unsigned_transition(doc, method=None) -> None:
	"""validate of every doctype: a workflow state reached by a transition that requires a signature must
	have been reached through apply_workflow with that signature."""
	workflow = get_workflow_name(doc.doctype)
	if not workflow or doc.is_new():
		return
	state_field = workflow_state_field(doc.doctype)
	before = doc.get_doc_before_save()
	if not before or before.get(state_field) == doc.get(state_field):
		return
	Transition = DocType("Workflow Transition")
	meanings = (
		frappe.qb.from_(Transition)
		.select(Transition.medtrace_signature_meaning)
		.where(
			(Transition.parent == workflow)
			& (Transition.state == before.get(state_field))
			& (Transition.next_state == doc.get(state_field))
			& (Transition.medtrace_signature_meaning.isnotnull())
			& (Transition.medtrace_signature_meaning != "")
		)
		.run(pluck=True)
	)
	if meanings and frappe.flags.medtrace_signed_transition != (doc.doctype, doc.name, doc.get(state_field)):
		frappe.throw(
			_("Moving {0} {1} to {2} is an electronic signature ({3}): use the workflow action and sign it.").format(
				_(doc.doctype), doc.name, frappe.bold(_(doc.get(state_field))), _(meanings[0])
			),
			SignatureError,
			title=_("Signature Required"),
		)
