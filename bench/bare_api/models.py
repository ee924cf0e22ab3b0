"""A clinic, its API keys (by digest) and its patients, with the columns Vaidya's record has."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    next_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE)
    digest = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    is_authenticated = True

    def __str__(self) -> str:
        return self.digest[:8]


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, db_index=False)
    number = models.PositiveIntegerField()
    full_name = models.CharField(max_length=200)
    search_name = models.CharField(max_length=200)
    date_of_birth = models.DateField()
    dob_estimated = models.BooleanField(default=False)
    sex = models.CharField(max_length=1)
    phone = models.CharField(max_length=20)
    whatsapp_phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    city = models.CharField(max_length=100, blank=True)
    pincode = models.CharField(max_length=6, blank=True)
    state_code = models.CharField(max_length=2, blank=True)
    blood_group = models.CharField(max_length=3, blank=True)
    allergies = models.TextField(blank=True)
    chronic_conditions = models.TextField(blank=True)
    abha_number = models.CharField(max_length=14, blank=True)
    abha_address = models.CharField(max_length=120, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relation = models.CharField(max_length=20, blank=True)
    emergency_contact_phone = models.CharField(max_length=20, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "number"], name="bare_patient_number")
        ]
        indexes = [
            models.Index(fields=["clinic", "phone"], name="bare_patient_phone"),
            GinIndex(
                fields=["search_name"], name="bare_patient_name_trgm", opclasses=["gin_trgm_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.full_name
