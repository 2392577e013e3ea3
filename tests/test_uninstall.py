"""Uninstalling and reinstalling MedTrace leaves a working site."""

import frappe
import pytest

from bench_tool import TEST_SITE, installed_apps, site_command

pytestmark = pytest.mark.requirement("MT-INS-003")


@pytest.mark.destructive
def test_uninstall_then_reinstall(bench):
	frappe.db.commit()
	site_command(bench, TEST_SITE, "uninstall-app", "medtrace", "--yes", "--no-backup")
	frappe.db.rollback()
	assert "medtrace" not in installed_apps(bench, TEST_SITE)
	assert not frappe.db.exists("DocType", "UDI Device Identifier")
	assert not frappe.db.exists("Custom Field", "Batch-udi_pi")
	assert not frappe.db.exists("Workflow", "UDI Device Identifier Release")

	site_command(bench, TEST_SITE, "install-app", "medtrace")
	frappe.db.rollback()  # a fresh snapshot: the command ran in another process
	frappe.clear_cache()
	assert "medtrace" in installed_apps(bench, TEST_SITE)
	assert frappe.db.exists("DocType", "UDI Device Identifier")
	assert frappe.get_meta("Batch").has_field("udi_pi")
	assert frappe.db.get_value("Workflow", "UDI Device Identifier Release", "is_active") == 1
