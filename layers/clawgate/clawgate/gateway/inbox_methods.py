"""The operator inbox over the control plane: `conversations.*` and `templates.list`, the same data and rules as
the HTTP routes (gateway/inbox.py); the operator is the device's name unless the call names one. Live changes
arrive as `conversation.message` and `conversation.updated` events."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from clawgate.agent.outreach import OutreachRefusedError
from clawgate.core.protocol import ProtocolError
from clawgate.gateway import inbox
from clawgate.gateway.data import inbox as inbox_data
from clawgate.gateway.method_registry import Caller, method, page_method


class ConversationRef(BaseModel):
    conversation_id: int


class TranscriptParams(ConversationRef):
    limit: int = Field(default=200, ge=1, le=500)


class ReplyParams(ConversationRef, inbox.ReplyBody):
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class ModeParams(ConversationRef, inbox.ModeBody):
    pass


class UpdateParams(ConversationRef, inbox.PatchBody):
    pass


class TemplateParams(ConversationRef, inbox.TemplateBody):
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class TemplatesParams(BaseModel):
    refresh: bool = False


def _operator(caller: Caller, params: inbox.ReplyBody | inbox.ModeBody | inbox.TemplateBody) -> dict[str, Any]:
    named = "author" in params.model_fields_set
    return {"author": params.author if named else (caller.device_name or "operator")}


def _guarded(call: Any) -> Any:
    try:
        return call()
    except inbox.WindowClosedError as error:
        raise ProtocolError("window_closed", str(error)) from None
    except OutreachRefusedError as error:
        raise ProtocolError(error.code, str(error)) from None
    except inbox.DeliveryError as error:
        raise ProtocolError("delivery_refused", str(error)) from None
    except LookupError as error:
        raise ProtocolError("not_found", str(error)) from None


page_method("conversations.list", inbox_data.ConversationQuery, inbox_data.page)


@method("conversations.messages", TranscriptParams)
def _messages(caller: Caller, params: TranscriptParams) -> Any:
    page = _guarded(lambda: inbox.transcript(caller.tenant, params.conversation_id, params.limit))
    inbox.mark_read(caller.tenant, params.conversation_id)
    return page


@method("conversations.reply", ReplyParams)
def _reply(caller: Caller, params: ReplyParams) -> Any:
    body = inbox.ReplyBody(text=params.text, **_operator(caller, params))
    return _guarded(lambda: inbox.reply(caller.tenant, params.conversation_id, body, params.idempotency_key))


@method("conversations.mode", ModeParams)
def _mode(caller: Caller, params: ModeParams) -> Any:
    fields = params.model_dump(include={"mode", "assignee"} & params.model_fields_set | {"mode"})
    body = inbox.ModeBody(**fields, **_operator(caller, params))
    return _guarded(lambda: inbox.set_mode(caller.tenant, params.conversation_id, body))


@method("conversations.update", UpdateParams)
def _update(caller: Caller, params: UpdateParams) -> Any:
    body = inbox.PatchBody(**params.model_dump(include={"labels", "note"} & params.model_fields_set))
    return _guarded(lambda: inbox.update(caller.tenant, params.conversation_id, body))


@method("conversations.template", TemplateParams)
def _template(caller: Caller, params: TemplateParams) -> Any:
    body = inbox.TemplateBody(name=params.name, language=params.language, parameters=params.parameters,
                              **_operator(caller, params))  # fmt: skip
    return _guarded(lambda: inbox.send_template(caller.tenant, params.conversation_id, body, params.idempotency_key))


@method("templates.list", TemplatesParams)
def _templates(caller: Caller, params: TemplatesParams) -> Any:
    return {"items": _guarded(lambda: inbox.template_summaries(caller.tenant, params.refresh))}
