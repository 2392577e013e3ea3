// Trace Explorer: scan or type a UDI, lot or serial number — or choose a supplier, a customer, or type or scan
// a supplier's lot number — and see where it came from (backward) or where it went (forward): the genealogy
// as a collapsible tree, a timeline and the tables of the trace; then download the same trace as XLSX, CSV,
// a PDF evidence report or an EPCIS 2.0 document (medtrace.traceability.export).
frappe.pages["trace-explorer"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({
		parent: wrapper,
		title: __("Trace Explorer"),
		single_column: true,
	});
	wrapper.trace_explorer = new medtrace.TraceExplorer(page);
};

frappe.pages["trace-explorer"].on_page_show = function (wrapper) {
	wrapper.trace_explorer && wrapper.trace_explorer.take_route_options();
};

frappe.provide("medtrace");

// Rows rendered at once under one node, and per table: the downloads hold everything.
const MT_SHOWN_AT_ONCE = 200;
const MT_TABLE_ROWS = 500;
// The form field holding what each start type traces from, and the direction it is usually traced in.
const MT_STARTS = {
	identifier: { field: "identifier", direction: null },
	supplier: { field: "start_supplier", direction: "forward" },
	supplier_lot: { field: "supplier_lot", direction: "forward" },
	customer: { field: "start_customer", direction: "backward" },
};
// Start "doctypes" that are no record to link to.
const MT_NOT_RECORDS = ["Supplier Lot", "Recall"];

medtrace.TraceExplorer = class TraceExplorer {
	constructor(page) {
		this.page = page;
		this.result = null;
		this.make_form();
		this.make_actions();
		this.$result = $('<div class="mt-trace-result"></div>').appendTo(page.main);
		this.show_empty();
		this.take_route_options();
	}

	make_form() {
		const $form = $('<div class="frappe-card mt-trace-form"></div>').appendTo(this.page.main);
		this.form = new frappe.ui.FieldGroup({
			body: $form,
			fields: [
				{
					fieldtype: "Select",
					fieldname: "start_type",
					label: __("Trace From"),
					options: [
						{ value: "identifier", label: __("Lot, Serial No or UDI") },
						{ value: "supplier", label: __("Supplier") },
						{ value: "supplier_lot", label: __("Supplier Lot") },
						{ value: "customer", label: __("Customer") },
					],
					default: "identifier",
					change: () => this.start_type_changed(),
				},
				{ fieldtype: "Column Break" },
				{
					fieldtype: "Data",
					fieldname: "identifier",
					label: __("Lot, Serial No or UDI"),
					placeholder: __("Scan a label or type a lot or serial number"),
					depends_on: "eval:doc.start_type==='identifier'",
				},
				{
					fieldtype: "Data",
					fieldname: "supplier_lot",
					label: __("Supplier Lot"),
					placeholder: __("Scan the supplier's label or type its lot number"),
					depends_on: "eval:doc.start_type==='supplier_lot'",
				},
				{
					fieldtype: "Link",
					fieldname: "start_supplier",
					label: __("Supplier"),
					options: "Supplier",
					depends_on: "eval:['supplier', 'supplier_lot'].includes(doc.start_type)",
					description: __("For a supplier lot: only the lots received from this supplier."),
				},
				{
					fieldtype: "Link",
					fieldname: "start_customer",
					label: __("Customer"),
					options: "Customer",
					depends_on: "eval:doc.start_type==='customer'",
				},
				{ fieldtype: "Column Break" },
				{
					fieldtype: "Select",
					fieldname: "direction",
					label: __("Direction"),
					options: [
						{ value: "backward", label: __("Backward: where it came from") },
						{ value: "forward", label: __("Forward: where it went") },
					],
					default: "backward",
				},
				{ fieldtype: "Column Break" },
				{ fieldtype: "Int", fieldname: "depth", label: __("Depth"), default: 10 },
				{
					fieldtype: "Section Break",
					label: __("Receipts"),
					depends_on: "eval:['supplier', 'supplier_lot'].includes(doc.start_type)",
				},
				{ fieldtype: "Date", fieldname: "received_from", label: __("Received From") },
				{ fieldtype: "Column Break" },
				{ fieldtype: "Date", fieldname: "received_to", label: __("Received To") },
				{ fieldtype: "Column Break" },
				{ fieldtype: "Link", fieldname: "supplied_item", label: __("Item Received"), options: "Item" },
				{ fieldtype: "Section Break", label: __("Filters"), collapsible: 1 },
				{ fieldtype: "Date", fieldname: "from_date", label: __("From Date") },
				{ fieldtype: "Column Break" },
				{ fieldtype: "Date", fieldname: "to_date", label: __("To Date") },
				{ fieldtype: "Column Break" },
				{ fieldtype: "Link", fieldname: "item", label: __("Item"), options: "Item" },
				{ fieldtype: "Column Break" },
				{ fieldtype: "Link", fieldname: "customer", label: __("Customer"), options: "Customer" },
			],
		});
		this.form.make();
		for (const fieldname of ["identifier", "supplier_lot"]) {
			const $input = this.form.get_field(fieldname).$input;
			$input.addClass("input-lg").attr("autocomplete", "off");
			$input.on("keydown", (event) => {
				// Scanners sending FNC1 as Ctrl+] would otherwise lose the GS1 group separator.
				if (event.ctrlKey && event.key === "]") {
					event.preventDefault();
					$input.val($input.val() + "\x1d");
				}
				if (event.key === "Enter") {
					event.preventDefault();
					this.trace();
				}
			});
		}
		setTimeout(() => this.form.get_field("identifier").$input.focus(), 300);
	}

	start_type_changed() {
		const start = MT_STARTS[this.form.get_value("start_type")] || MT_STARTS.identifier;
		if (start.direction) this.form.set_value("direction", start.direction);
		const $input = this.form.get_field(start.field).$input;
		setTimeout(() => $input && $input.focus(), 100);
	}

	make_actions() {
		this.page.set_primary_action(__("Trace"), () => this.trace(), "search");
		for (const [label, file_format] of [
			[__("XLSX"), "xlsx"],
			[__("CSV"), "csv"],
			[__("PDF Evidence Report"), "pdf"],
			[__("EPCIS 2.0"), "jsonld"],
		]) {
			this.page.add_inner_button(label, () => this.download(file_format));
		}
	}

	take_route_options() {
		const options = frappe.route_options;
		if (!options || !Object.values(MT_STARTS).some((start) => options[start.field])) return;
		frappe.route_options = null;
		Promise.resolve(this.form.set_values(options)).then(() => this.trace());
	}

	arguments() {
		const values = this.form.get_values(true);
		const start_type = values.start_type || "identifier";
		const args = {
			identifier: (values[MT_STARTS[start_type].field] || "").trim(),
			direction: values.direction || "backward",
			depth: values.depth || 10,
		};
		if (start_type !== "identifier") args.start_type = start_type;
		if (start_type === "supplier_lot" && values.start_supplier) args.supplier = values.start_supplier;
		const fields = ["from_date", "to_date", "item", "customer"];
		if (["supplier", "supplier_lot"].includes(start_type)) fields.push("received_from", "received_to", "supplied_item");
		for (const field of fields) {
			if (values[field]) args[field] = values[field];
		}
		return args;
	}

	trace() {
		const args = this.arguments();
		if (!args.identifier) {
			frappe.msgprint(
				{
					identifier: __("Enter or scan a lot, serial number or UDI to trace."),
					supplier: __("Choose the supplier to trace from."),
					supplier_lot: __("Enter or scan the supplier's lot number to trace."),
					customer: __("Choose the customer to trace from."),
				}[args.start_type || "identifier"]
			);
			return;
		}
		this.$result.html(`<div class="text-muted mt-4">${__("Tracing…")}</div>`);
		frappe.call({
			method: "medtrace.traceability.api.get_trace",
			args,
			callback: (r) => {
				this.traced_with = args;
				this.show(r.message);
			},
			error: () => this.show_empty(),
		});
	}

	download(file_format) {
		const args = this.traced_with || this.arguments();
		if (!args.identifier) {
			frappe.msgprint(__("Trace something first."));
			return;
		}
		const query = new URLSearchParams({ ...args, file_format }).toString();
		window.open(`/api/method/medtrace.traceability.export.download_trace?${query}`);
	}

	show_empty() {
		this.result = null;
		this.$result.html(
			`<div class="text-muted mt-4">${__(
				"Scan or type a lot, serial number or UDI — or choose a supplier, a supplier lot or a customer — choose backward or forward, and press Trace."
			)}</div>`
		);
	}

	show(result) {
		this.result = result;
		this.nodes = Object.fromEntries(result.nodes.map((node) => [node.node, node]));
		this.$result.empty();
		this.$result.append(this.summary_html(result));
		this.$result.append(this.start_section(result));
		this.make_tree(result);
		this.$result.append(this.timeline_html(result));
		for (const section of [
			this.documents_table(result),
			this.movements_table(result),
			this.suppliers_table(result),
			this.inspections_table(result),
			this.customers_table(result),
			this.warehouses_table(result),
			this.work_orders_table(result),
		]) {
			this.$result.append(section);
		}
		this.show_packages(result);
	}

	// The cases and pallets holding what was traced: asked for after the trace, as it is a second query.
	show_packages(result) {
		if (!result.nodes.length || !frappe.model.can_read("Package")) return;
		const $section = $("<div></div>").appendTo(this.$result);
		const nodes = result.nodes.map((node) => node.node);
		frappe.xcall("medtrace.packaging.recall.packages_holding", { nodes }).then((packed) => {
			if (this.result !== result) return;
			$section.replaceWith(this.packages_table(packed.packages));
		});
	}

	packages_table(packages) {
		return this.table(
			__("Packages"),
			[__("Package"), __("Packed In"), __("Outer SSCC"), __("Status"), __("Warehouse / Customer"), __("Intact"), __("Qty"), __("Lots / Serial Nos")],
			packages.map((row) => [
				this.link("Package", row.package),
				row.path.slice(1).map((name) => this.link("Package", name)).join(" → "),
				this.text(row.sscc),
				__(row.status),
				row.customer ? this.link("Customer", row.customer) : this.link("Warehouse", row.warehouse),
				row.intact ? __("Yes") : `<span class="text-danger">${__("Broken open")}</span>`,
				this.qty(row.qty),
				row.units.map((unit) => this.text(unit)).join(", "),
			])
		);
	}

	// Formatting

	link(doctype, name, label) {
		if (!name) return "";
		const text = frappe.utils.escape_html(label || name);
		return `<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(name)}">${text}</a>`;
	}

	record_link(doctype, name) {
		return MT_NOT_RECORDS.includes(doctype) ? this.text(name) : this.link(doctype, name);
	}

	node_link(key) {
		const node = this.nodes[key];
		const [doctype, name] = key.split("::");
		return this.link(doctype, name, node ? node.name : name);
	}

	nodes_list(keys, limit = 6) {
		const shown = keys.slice(0, limit).map((key) => this.node_link(key));
		const more = keys.length > limit ? ` <span class="text-muted">${__("and {0} more", [keys.length - limit])}</span>` : "";
		return shown.join(", ") + more;
	}

	qty(value, uom) {
		if (value === null || value === undefined) return "";
		const number = format_number(value, null, Number.isInteger(value) ? 0 : 3);
		return `${number}${uom ? " " + frappe.utils.escape_html(uom) : ""}`;
	}

	party(party_name, party_type, party) {
		const name = party_name && party_name !== party ? `<div class="text-muted small">${this.text(party_name)}</div>` : "";
		return this.link(party_type, party) + name;
	}

	text(value) {
		return value === null || value === undefined ? "" : frappe.utils.escape_html(String(value));
	}

	card(title, body, count) {
		const badge = count === undefined ? "" : ` <span class="badge badge-secondary">${count}</span>`;
		return $(`<div class="frappe-card mt-trace-section">
			<div class="mt-trace-section-head" role="button">${title}${badge}<span class="mt-trace-caret">▾</span></div>
			<div class="mt-trace-section-body">${body}</div>
		</div>`).on("click", ".mt-trace-section-head", (event) => {
			$(event.currentTarget).closest(".mt-trace-section").toggleClass("mt-collapsed");
		});
	}

	table(title, columns, rows) {
		if (!rows.length) {
			return this.card(title, `<div class="text-muted">${__("None")}</div>`, 0);
		}
		const shown = rows.slice(0, MT_TABLE_ROWS);
		const more =
			rows.length > shown.length
				? `<div class="text-muted">${__("{0} more rows: download the trace to see them all.", [rows.length - shown.length])}</div>`
				: "";
		const html = `<div class="table-responsive"><table class="table table-sm table-bordered mt-trace-table">
			<thead><tr>${columns.map((column) => `<th>${column}</th>`).join("")}</tr></thead>
			<tbody>${shown.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("")}</tbody>
		</table></div>${more}`;
		return this.card(title, html, rows.length);
	}

	// Summary

	summary_html(result) {
		const query = result.query;
		const filters = query.filters;
		const chosen = [
			filters.from_date && `${__("From Date")}: ${this.text(filters.from_date)}`,
			filters.to_date && `${__("To Date")}: ${this.text(filters.to_date)}`,
			filters.item.length && `${__("Item")}: ${this.text(filters.item.join(", "))}`,
			filters.customer.length && `${__("Customer")}: ${this.text(filters.customer.join(", "))}`,
		].filter(Boolean);
		const direction = query.direction === "backward" ? __("Backward: where it came from") : __("Forward: where it went");
		const truncated = query.truncated
			? `<div class="alert alert-warning mt-3 mb-0">${__(
					"The genealogy goes on beyond depth {0}: trace again with a greater depth to see all of it.",
					[query.depth]
			  )}</div>`
			: "";
		return `<div class="frappe-card mt-trace-summary">
			<div class="flex justify-between align-center flex-wrap">
				<div>
					<div class="text-muted small">${__(query.doctype)}</div>
					<div class="h4 mb-1">${this.record_link(query.doctype, query.name)}${
						query.start.label && query.start.label !== query.name
							? ` <span class="text-muted small">${this.text(query.start.label)}</span>`
							: ""
					}</div>
					<div class="text-muted small">${__("Identifier")}: <code>${this.text(query.identifier.replace(/\x1d/g, "<GS>"))}</code></div>
				</div>
				<div class="mt-trace-figures">
					${this.figure(direction, __("Direction"))}
					${this.figure(`${query.depth_reached} / ${query.depth}`, __("Depth Reached"))}
					${this.figure(result.nodes.length, __("Lots, Serial Nos and Work Orders"))}
					${this.figure(result.timeline.length, __("Documents"))}
					${this.figure(result.customers.length, __("Customers"))}
				</div>
			</div>
			<div class="text-muted small mt-2">${__("Traced by {0} on {1}.", [
				frappe.utils.escape_html(frappe.user_info(query.user).fullname),
				frappe.datetime.str_to_user(query.traced_at),
			])}${chosen.length ? " " + __("Filters") + ": " + chosen.join(" · ") : ""}</div>
			${truncated}
		</div>`;
	}

	// What a supplier, supplier lot or customer stood for: the lots received, with whom from; a customer's
	// devices are the Customer Devices report.
	start_section(result) {
		const start = result.query.start;
		if (start.start_type === "customer") {
			const $card = this.card(__("Customer Devices"), "", start.nodes.length);
			$(`<a role="button">${__("Open the Customer Devices report: lot, serial, UDI, deliveries, returns and contents of each.")}</a>`)
				.on("click", () => frappe.set_route("query-report", "Customer Devices", { customer: start.name }))
				.appendTo($card.find(".mt-trace-section-body"));
			return $card;
		}
		if (!start.candidates.length) return "";
		const ambiguous = start.ambiguous ? `<div class="alert alert-warning">${this.text(start.message)}</div>` : "";
		const receipts = [
			start.supplier && `${__("Supplier")}: ${this.link("Supplier", start.supplier)}`,
			(start.received_from || start.received_to) &&
				`${__("Received")}: ${this.text(start.received_from || "…")} – ${this.text(start.received_to || "…")}`,
			start.supplied_items.length && `${__("Item Received")}: ${this.text(start.supplied_items.join(", "))}`,
		].filter(Boolean);
		const $card = this.table(
			__("Starting Lots and Serial Nos"),
			[__("Lot / Serial No"), __("Item"), __("Supplier Lot"), __("Supplier"), __("Received Qty"), __("First Received"), __("Receipts")],
			start.candidates.map((row) => [
				this.link(row.doctype, row.name),
				`${this.link("Item", row.item)}<div class="text-muted small">${this.text(row.item_name)}</div>`,
				this.text(row.supplier_lot),
				this.link("Supplier", row.supplier),
				this.qty(row.received_qty),
				row.first_received ? frappe.datetime.str_to_user(row.first_received) : "",
				row.receipts.map((name) => this.link("Purchase Receipt", name)).join(", "),
			])
		);
		$card.find(".mt-trace-section-body").prepend(
			ambiguous + (receipts.length ? `<div class="text-muted small mb-2">${receipts.join(" · ")}</div>` : "")
		);
		return $card;
	}

	figure(value, label) {
		return `<div class="mt-trace-figure"><div class="mt-trace-figure-value">${value}</div><div class="text-muted small">${label}</div></div>`;
	}

	// The genealogy tree. A genealogy is a graph: each node's branch is shown once, under the first node
	// that reached it level by level; elsewhere it is a leaf marked as shown elsewhere (as in the exports,
	// medtrace/traceability/tree.py). Children are rendered when their node is first opened.

	make_tree(result) {
		const root = result.query.node;
		const backward = result.query.direction === "backward";
		const branches = {};
		const add = (parent, key, link) => (branches[parent] = branches[parent] || []).push({ key, link });
		for (const link of result.edges) {
			backward ? add(link.to, link.from, link) : add(link.from, link.to, link);
		}
		for (const node of result.nodes) {
			const batch = node.doctype === "Serial No" && node.lot ? `Batch::${node.lot}` : null;
			if (node.node !== root && batch && this.nodes[batch]) add(batch, node.node, null);
		}
		// A supplier, supplier lot or customer: the lots and serial numbers it stands for hang under it.
		if (result.query.start.root) {
			this.nodes[root] = result.query.start.root;
			branches[root] = result.query.start.nodes.filter((key) => this.nodes[key]).map((key) => ({ key, link: null }));
		}
		const home = { [root]: null };
		let level = [root];
		while (level.length) {
			const reached = [];
			for (const parent of level) {
				for (const { key } of branches[parent] || []) {
					if (!(key in home)) {
						home[key] = parent;
						reached.push(key);
					}
				}
			}
			level = reached;
		}
		result.nodes
			.filter((node) => !(node.node in home))
			.forEach((node) => {
				home[node.node] = root;
				add(root, node.node, null);
			});
		this.branches = branches;
		this.home = home;

		const $body = $(`<div class="mt-tree">
			<div class="mt-tree-row mt-tree-head">
				<div class="mt-tree-name">${__("Lot / Serial No")}</div>
				<div class="mt-tree-item">${__("Item")}</div>
				<div class="mt-tree-udi">${__("UDI")}</div>
				<div class="mt-tree-qty">${__("Qty")}</div>
				<div class="mt-tree-depth">${__("Depth")}</div>
				<div class="mt-tree-doc">${__("Document")}</div>
				<div class="mt-tree-qty">${__("Attributed Qty")}</div>
			</div>
		</div>`);
		const $card = this.card(__("Genealogy"), "", result.nodes.length).appendTo(this.$result);
		const $tools = $(`<div class="mb-2">
			<button class="btn btn-xs btn-default" data-action="expand">${__("Expand All")}</button>
			<button class="btn btn-xs btn-default" data-action="collapse">${__("Collapse All")}</button>
		</div>`);
		$card.find(".mt-trace-section-body").append($tools, $body);
		$tools.on("click", "[data-action=expand]", () => this.expand_all($body));
		$tools.on("click", "[data-action=collapse]", () => $body.find(".mt-tree-branch").addClass("mt-collapsed"));

		const $root = this.tree_node(root, null, null, 0);
		$body.append($root);
		this.open($root, 2);
		$body.on("click", ".mt-tree-toggle", (event) => {
			const $node = $(event.currentTarget).closest(".mt-tree-node");
			if ($node.children(".mt-tree-branch").hasClass("mt-collapsed") || !$node.data("rendered")) {
				this.open($node, 1);
			} else {
				$node.children(".mt-tree-branch").addClass("mt-collapsed");
				$node.children(".mt-tree-row").find(".mt-tree-toggle").text("▸");
			}
		});
	}

	tree_node(key, link, parent, indent) {
		const node = this.nodes[key];
		const siblings = parent === null ? [] : this.branches[parent] || [];
		// A branch is shown where its node was first reached, at the first link from that node.
		const home = parent === null || (this.home[key] === parent && siblings.find((branch) => branch.key === key).link === link);
		const children = home ? this.branches[key] || [] : [];
		const toggle = children.length ? `<span class="mt-tree-toggle" role="button">▸</span>` : `<span class="mt-tree-leaf">•</span>`;
		const lot = node.doctype === "Serial No" && node.lot ? `<div class="text-muted small">${__("Lot")}: ${this.link("Batch", node.lot)}</div>` : "";
		const elsewhere = home ? "" : `<span class="text-muted small">(${__("shown elsewhere")})</span>`;
		const doc = link
			? `${this.link(link.voucher_type, link.voucher_no)}<div class="text-muted small">${__(link.event)} · ${this.text(
					frappe.datetime.str_to_user(link.posting_datetime)
			  )}</div>`
			: "";
		const $node = $(`<div class="mt-tree-node${home ? "" : " mt-tree-repeat"}">
			<div class="mt-tree-row">
				<div class="mt-tree-name" style="padding-left: ${indent * 18}px">
					${toggle}
					<span>${this.record_link(node.doctype, node.name)}</span>
					<span class="mt-tree-type">${__(node.doctype)}</span> ${elsewhere}
					${lot}
				</div>
				<div class="mt-tree-item">${this.link("Item", node.item)}<div class="text-muted small">${this.text(node.item_name)}</div></div>
				<div class="mt-tree-udi"><code title="${this.text(node.udi)}">${this.text(node.udi)}</code></div>
				<div class="mt-tree-qty">${this.qty(node.qty, node.uom)}</div>
				<div class="mt-tree-depth">${node.depth === null ? "" : node.depth}</div>
				<div class="mt-tree-doc">${doc}</div>
				<div class="mt-tree-qty">${link ? this.qty(link.attributed_qty) : ""}</div>
			</div>
			<div class="mt-tree-branch mt-collapsed"></div>
		</div>`);
		$node.data({ key, indent, children });
		return $node;
	}

	open($node, levels) {
		const children = $node.data("children");
		if (!children.length || levels < 1) return;
		const $branch = $node.children(".mt-tree-branch");
		if (!$node.data("rendered")) {
			this.render_children($node, $branch, 0);
			$node.data("rendered", true);
		}
		$branch.removeClass("mt-collapsed");
		$node.children(".mt-tree-row").find(".mt-tree-toggle").text("▾");
		if (levels > 1) {
			$branch.children(".mt-tree-node").each((_i, child) => this.open($(child), levels - 1));
		}
	}

	render_children($node, $branch, start) {
		const children = $node.data("children");
		const key = $node.data("key");
		const indent = $node.data("indent") + 1;
		const end = Math.min(children.length, start + MT_SHOWN_AT_ONCE);
		for (const { key: child, link } of children.slice(start, end)) {
			$branch.append(this.tree_node(child, link, key, indent));
		}
		if (end < children.length) {
			const $more = $(`<div class="mt-tree-more" style="padding-left: ${indent * 18 + 18}px">
				<a role="button">${__("Show {0} more of {1}", [Math.min(MT_SHOWN_AT_ONCE, children.length - end), children.length - end])}</a>
			</div>`).appendTo($branch);
			$more.on("click", "a", () => {
				$more.remove();
				this.render_children($node, $branch, end);
			});
		}
	}

	expand_all($body) {
		const nodes = this.result.nodes.length;
		if (nodes > 2000) {
			frappe.msgprint(__("This trace has {0} nodes: open the branches you need, or download the trace.", [nodes]));
			return;
		}
		this.open($body.children(".mt-tree-node"), 1000);
	}

	// Timeline and tables

	timeline_html(result) {
		const days = [];
		for (const row of result.timeline.slice(0, MT_TABLE_ROWS)) {
			const day = row.posting_datetime.slice(0, 10);
			if (!days.length || days[days.length - 1].day !== day) days.push({ day, rows: [] });
			days[days.length - 1].rows.push(row);
		}
		const html = days
			.map(
				({ day, rows }) => `<div class="mt-timeline-day">
				<div class="mt-timeline-date">${frappe.datetime.str_to_user(day)}</div>
				${rows
					.map(
						(row) => `<div class="mt-timeline-entry">
						<span class="mt-timeline-time text-muted">${this.text(row.posting_datetime.slice(11, 16))}</span>
						<span class="mt-timeline-dot"></span>
						<span>
							${row.events.map((event) => `<span class="indicator-pill ${this.event_colour(event)}">${__(event)}</span>`).join(" ")}
							${__(row.voucher_type)} ${this.link(row.voucher_type, row.voucher_no)}
							${row.party ? `· ${__(row.party_type)} ${this.link(row.party_type, row.party)}` : ""}
							<div class="text-muted small">${this.nodes_list(row.nodes)}</div>
						</span>
					</div>`
					)
					.join("")}
			</div>`
			)
			.join("");
		return this.card(__("Timeline"), html || `<div class="text-muted">${__("None")}</div>`, result.timeline.length);
	}

	event_colour(event) {
		if (["Delivery", "Sales Return"].includes(event)) return "blue";
		if (["Receipt", "Purchase Return", "Subcontract Receipt"].includes(event)) return "orange";
		if (["Manufacture", "Repack", "Production", "Subcontracting", "Disassemble"].includes(event)) return "green";
		return "gray";
	}

	documents_table(result) {
		return this.table(
			__("Documents"),
			[__("Posting Date"), __("Document Type"), __("Document"), __("Events"), __("Party"), __("Lots / Serial Nos")],
			result.timeline.map((row) => [
				frappe.datetime.str_to_user(row.posting_datetime),
				__(row.voucher_type),
				this.link(row.voucher_type, row.voucher_no),
				row.events.map((event) => __(event)).join(", "),
				row.party ? this.link(row.party_type, row.party) : "",
				this.nodes_list(row.nodes),
			])
		);
	}

	movements_table(result) {
		return this.table(
			__("Movements"),
			[__("Posting Date"), __("Lot / Serial No"), __("Event"), __("In / Out"), __("Qty"), __("Warehouse"), __("Document"), __("Party")],
			result.movements.map((row) => [
				frappe.datetime.str_to_user(row.posting_datetime),
				this.node_link(row.node),
				__(row.event),
				row.direction === "In" ? __("In") : __("Out"),
				this.qty(row.qty),
				this.text(row.warehouse),
				this.link(row.voucher_type, row.voucher_no),
				row.party ? this.link(row.party_type, row.party) : "",
			])
		);
	}

	documents_of(result, party_type, events) {
		const found = {};
		for (const row of result.movements) {
			if (row.party_type === party_type && events.includes(row.event)) {
				const key = `${row.party}|${row.node}`;
				found[key] = found[key] || { documents: {}, addresses: [] };
				found[key].documents[row.voucher_no] = row.voucher_type;
				if (row.address && !found[key].addresses.includes(row.address)) found[key].addresses.push(row.address);
			}
		}
		return (party, node) => found[`${party}|${node}`] || { documents: {}, addresses: [] };
	}

	document_links(documents) {
		return Object.entries(documents)
			.map(([name, doctype]) => this.link(doctype, name))
			.join(", ");
	}

	suppliers_table(result) {
		const documents = this.documents_of(result, "Supplier", ["Receipt", "Subcontract Receipt", "Purchase Return", "Subcontract Return"]);
		const rows = [];
		for (const supplier of result.suppliers) {
			for (const lot of supplier.lots) {
				rows.push([
					this.party(supplier.supplier_name, "Supplier", supplier.supplier),
					this.node_link(lot.node),
					this.text(lot.supplier_lot),
					this.link("Item", lot.item),
					this.qty(lot.received_qty),
					this.qty(lot.returned_qty),
					this.document_links(documents(supplier.supplier, lot.node).documents),
				]);
			}
		}
		return this.table(
			__("Suppliers"),
			[__("Supplier"), __("Lot / Serial No"), __("Supplier Lot"), __("Item"), __("Received Qty"), __("Returned Qty"), __("Receipts and Returns")],
			rows
		);
	}

	inspections_table(result) {
		const colour = { Accepted: "green", Rejected: "red" };
		return this.table(
			__("Quality Inspections"),
			[__("Quality Inspection"), __("Inspection Type"), __("Status"), __("Item"), __("Lot / Serial No"), __("Reference"), __("Report Date"), __("Readings")],
			result.quality_inspections.map((row) => [
				this.link("Quality Inspection", row.quality_inspection),
				this.text(row.inspection_type && __(row.inspection_type)),
				`<span class="indicator-pill ${colour[row.status] || "gray"}">${__(row.status)}</span>`,
				this.link("Item", row.item),
				row.serial_no ? this.link("Serial No", row.serial_no) : this.link("Batch", row.batch_no),
				row.reference_type ? this.link(row.reference_type, row.reference_name) : "",
				frappe.datetime.str_to_user(row.report_date),
				row.readings.map((reading) => `${this.text(reading.specification)}: ${this.text(reading.value)}`).join("<br>"),
			])
		);
	}

	customers_table(result) {
		const documents = this.documents_of(result, "Customer", ["Delivery", "Sales Return"]);
		const rows = [];
		for (const customer of result.customers) {
			const addresses = Object.fromEntries(customer.addresses.map((address) => [address.address, address]));
			for (const lot of customer.lots) {
				const found = documents(customer.customer, lot.node);
				rows.push([
					this.party(customer.customer_name, "Customer", customer.customer),
					this.node_link(lot.node),
					this.link("Item", lot.item),
					this.qty(lot.delivered_qty),
					this.qty(lot.returned_qty),
					`<b>${this.qty(lot.net_qty)}</b>`,
					this.document_links(found.documents),
					found.addresses
						.map((name) => this.text((addresses[name] && addresses[name].address_display) || name))
						.join("<br>"),
				]);
			}
		}
		return this.table(
			__("Customers"),
			[__("Customer"), __("Lot / Serial No"), __("Item"), __("Delivered Qty"), __("Returned Qty"), __("Net Qty"), __("Delivery Notes and Returns"), __("Shipping Address")],
			rows
		);
	}

	warehouses_table(result) {
		const rows = [];
		for (const warehouse of result.warehouses) {
			for (const held of warehouse.nodes) {
				rows.push([this.link("Warehouse", warehouse.warehouse), this.node_link(held.node), this.qty(held.qty)]);
			}
		}
		return this.table(__("Warehouses"), [__("Warehouse"), __("Lot / Serial No"), __("Qty in Stock")], rows);
	}

	work_orders_table(result) {
		return this.table(
			__("Work Orders"),
			[__("Work Order"), __("Item"), __("BOM"), __("Qty"), __("Produced Qty"), __("Status"), __("Lots / Serial Nos Made")],
			result.work_orders.map((row) => [
				this.link("Work Order", row.work_order),
				`${this.link("Item", row.production_item)}<div class="text-muted small">${this.text(row.item_name)}</div>`,
				this.link("BOM", row.bom),
				this.qty(row.qty),
				this.qty(row.produced_qty),
				__(row.status),
				this.nodes_list(row.outputs),
			])
		);
	}
};
