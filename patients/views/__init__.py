"""Pages for patients and their care, one module per area: `patients` (the record),
`schedule` (hours, booking, the day and the queue), `visits` (notes and prescriptions)."""
