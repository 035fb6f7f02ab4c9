"""Actions agreed at meetings: owners, due dates, carried forward until done."""
