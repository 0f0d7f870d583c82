"""The tenders domain's rules: lifecycle, deadlines, amendments, questions,
invitations and recommendations."""
