// UDI Scan: the operator scans any label (GS1 DataMatrix / GS1-128 / Digital Link QR / HIBC) into one box
// and sees what MedTrace knows about it. Scanners type the code and press Enter.
frappe.pages["udi-scan"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({
		parent: wrapper,
		title: __("UDI Scan"),
		single_column: true,
	});
	new medtrace.UDIScan(page);
};

frappe.provide("medtrace");

medtrace.UDIScan = class UDIScan {
	constructor(page) {
		this.page = page;
		this.history = [];
		this.make_input();
		this.$result = $('<div class="udi-scan-result" style="margin-top: var(--margin-lg)"></div>').appendTo(page.main);
		this.$history = $('<div class="udi-scan-history" style="margin-top: var(--margin-xl)"></div>').appendTo(page.main);
	}

	make_input() {
		this.scan_field = frappe.ui.form.make_control({
			parent: this.page.main,
			df: {
				fieldtype: "Data",
				fieldname: "scan",
				label: __("Scan a label"),
				placeholder: __("GS1 DataMatrix / GS1-128, Digital Link QR, HIBC, or a lot / serial number"),
				description: __("Focus stays here: scan one label after another."),
			},
			render_input: true,
		});
		this.scan_field.$input.addClass("input-lg").attr("autocomplete", "off");
		this.scan_field.$input.on("keydown", (event) => {
			// Scanners configured to send FNC1 as Ctrl+] would otherwise lose the group separator.
			if (event.ctrlKey && event.key === "]") {
				event.preventDefault();
				this.scan_field.$input.val(this.scan_field.$input.val() + "\x1d");
			}
			if (event.key === "Enter") {
				event.preventDefault();
				this.resolve(this.scan_field.$input.val());
			}
		});
		setTimeout(() => this.scan_field.$input.focus(), 300);
	}

	resolve(scan) {
		if (!scan) return;
		frappe.call({
			method: "medtrace.udi.scan.resolve_scan",
			args: { scan },
			callback: (r) => this.show(scan, r.message),
			error: () => this.show_error(scan),
			always: () => this.scan_field.$input.val("").focus(),
		});
	}

	show(scan, result) {
		const indicator = {
			resolved: "green",
			"partially resolved": "orange",
			unknown: "red",
			inconsistent: "red",
			ambiguous: "orange",
		}[result.status];
		const link = (doctype, name) =>
			name ? `<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(name)}">${frappe.utils.escape_html(name)}</a>` : "—";
		const rows = [
			[__("Item"), result.item ? `${link("Item", result.item)} ${frappe.utils.escape_html(result.item_name || "")}` : "—"],
			[__("UDI-DI"), link("UDI Device Identifier", result.udi_device_identifier)],
			[__("Batch"), link("Batch", result.batch)],
			[__("Serial No"), link("Serial No", result.serial_no)],
		];
		const fields = (result.fields || []).map(
			(f) => `<tr><td class="text-muted">${frappe.utils.escape_html(f.label)}</td><td><code>${frappe.utils.escape_html(f.value)}</code></td></tr>`
		);
		const warnings = (result.warnings || []).map((w) => `<div class="text-warning">⚠ ${frappe.utils.escape_html(w)}</div>`);
		const candidates = (result.candidates || []).map((c) => `<div>${__(c.doctype)}: ${link(c.doctype, c.name)}</div>`);
		this.$result.html(`
			<div class="frappe-card">
				<div class="flex justify-between align-center">
					<span class="indicator-pill ${indicator}">${__(frappe.utils.to_title_case(result.status))}</span>
					<span class="text-muted">${frappe.utils.escape_html(result.input_format)}</span>
				</div>
				<p class="mt-3">${frappe.utils.escape_html(result.message)}</p>
				${warnings.join("")}${candidates.join("")}
				<div class="row mt-3">
					<div class="col-md-6"><table class="table table-sm">${rows
						.map(([label, value]) => `<tr><td class="text-muted">${label}</td><td>${value}</td></tr>`)
						.join("")}</table></div>
					<div class="col-md-6"><table class="table table-sm">${fields.join("")}</table></div>
				</div>
			</div>`);
		this.remember(scan, result.status, indicator);
	}

	show_error(scan) {
		this.$result.html(`<div class="frappe-card"><span class="indicator-pill red">${__("Unreadable Scan")}</span>
			<p class="mt-3 text-muted">${__("See the message above. Scanned data:")} <code>${frappe.utils.escape_html(
				scan.replace(/\x1d/g, "<GS>")
			)}</code></p></div>`);
		this.remember(scan, "error", "red");
	}

	remember(scan, status, indicator) {
		this.history.unshift({ scan: scan.replace(/\x1d/g, "<GS>"), status, indicator, at: frappe.datetime.now_time() });
		this.history = this.history.slice(0, 10);
		this.$history.html(
			`<h6 class="text-muted">${__("Recent scans")}</h6>` +
				this.history
					.map(
						(h) =>
							`<div class="flex justify-between"><code>${frappe.utils.escape_html(h.scan)}</code><span class="indicator ${h.indicator}">${h.at}</span></div>`
					)
					.join("")
		);
	}
};
