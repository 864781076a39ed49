"""The pages' forms; every one carries and checks a CSRF token (Flask-WTF)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Signing out is a POST with a token, so a link on another site cannot do it."""


class ConfirmAssignmentForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class MoveAssignmentForm(FlaskForm):
    commune = StringField(_l("Commune code"), validators=[DataRequired(), Length(max=32),
                                                          Regexp(r"^[0-9A-Za-z:_.-]+$")])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class ResolveConflictForm(FlaskForm):
    choice = StringField(_l("Value to keep"), validators=[DataRequired(), Regexp(r"^(server|client)$")])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
