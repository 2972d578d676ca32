"""Parsers for question interchange formats (GIFT, Moodle XML). Pure: no database access.

``certification.services.questions.questions_import`` persists what they return.
"""
