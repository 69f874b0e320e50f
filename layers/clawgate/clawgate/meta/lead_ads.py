"""Meta Lead Ads: the lead queue's worker (`functions/lead_worker`). A `leadgen` notice carries ids only; the lead is
fetched with facebook-business (`Lead(id).api_get`) using the page's token, stored once per leadgen_id (source
`lead_form`, with name/phone/email extracted and every field kept), attributed through ad_creative_mapping, told to
the operator, and reported to Meta as a CRM conversion when the tenant enables it.

The page → tenant routing is the registry's `meta_page` channel account (`meta.page_id` of the tenant file)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from clawgate.db import Conn, registry_tx, tenant_tx
from clawgate.meta import conversions, graph
from clawgate.meta.data import leads
from clawgate.observability import bind, logger, mask_phone
from clawgate.tenancy.data import registry
from clawgate.tenancy.data.registry import ChannelAccount

PAGE_CHANNEL = "meta_page"
LEAD_FIELDS = ["created_time", "id", "ad_id", "form_id", "campaign_id", "adset_id", "field_data", "is_organic",
               "platform"]  # fmt: skip
NAME_FIELDS = ("full_name", "name")
PHONE_FIELDS = ("phone_number", "phone")
EMAIL_FIELDS = ("email", "work_email")


class LeadgenNotice(BaseModel):
    """What the webhook puts on the lead queue: one `leadgen` change (Graph may send the ids as numbers)."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    leadgen_id: str
    page_id: str
    form_id: str | None = None
    ad_id: str | None = None
    adgroup_id: str | None = None
    created_time: int | None = None


class FieldValue(BaseModel):
    name: str
    values: list[str] = []


class FetchedLead(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str
    ad_id: str | None = None
    form_id: str | None = None
    adset_id: str | None = None
    campaign_id: str | None = None
    created_time: str | None = None
    is_organic: bool | None = None
    platform: str | None = None
    field_data: list[FieldValue] = []

    def value(self, *names: str) -> str | None:
        found = {f.name.lower(): f.values for f in self.field_data}
        return next((found[n][0] for n in names if found.get(n)), None)

    @property
    def name(self) -> str | None:
        full = self.value(*NAME_FIELDS)
        parts = [p for p in (self.value("first_name"), self.value("last_name")) if p]
        return full or " ".join(parts) or None


def process_body(body: str) -> int | None:
    """One lead queue message (the lead worker's `edge.sqs.each_body` reports it failed when this raises: the queue
    retries a failed fetch)."""
    return process(LeadgenNotice.model_validate_json(body))


def process(notice: LeadgenNotice) -> int | None:
    """Store the lead of one notice; its id when it is new (a repeated notice changes nothing)."""
    with registry_tx() as conn:
        account = registry.find_channel_account(conn, PAGE_CHANNEL, notice.page_id)
    if account is None:
        keep_unrouted(notice, "no tenant owns this page")
        return None
    bind(tenant=account.tenant, leadgen_id=notice.leadgen_id)
    if already_stored(account.tenant, notice.leadgen_id):
        logger.info("lead already stored")
        return None
    lead = fetch(account, notice.leadgen_id)
    jobs: list[conversions.CapiJob] = []
    with tenant_tx(account.tenant) as conn:
        lead_id = insert(conn, notice, lead)
        if lead_id is not None:
            jobs = conversions.record_crm_event(conn, account.tenant, lead_id, notice.leadgen_id)
    if lead_id is not None:
        conversions.enqueue(jobs)
        notify(account.tenant, notice, lead)
    return lead_id


def already_stored(tenant: str, leadgen_id: str) -> bool:
    with tenant_tx(tenant, "ro") as conn:
        return leads.leadgen_stored(conn, leadgen_id)


def fetch(account: ChannelAccount, leadgen_id: str) -> FetchedLead:
    import requests
    from facebook_business.adobjects.lead import Lead
    from facebook_business.exceptions import FacebookRequestError

    try:
        node = Lead(leadgen_id, api=graph.api(str(account.config["access_token"]))).api_get(fields=LEAD_FIELDS)
    except (FacebookRequestError, requests.RequestException) as error:
        failure = graph.failure(error)
        if failure.invalid_token:
            from clawgate.core.notify import notify_operator

            text = (f"Meta refused the page token while fetching lead {leadgen_id} (error 190). The lead waits in"
                    " the queue; renew the token behind meta.access_token.")  # fmt: skip
            notify_operator(account.tenant, text)
        raise
    return FetchedLead.model_validate(node.export_all_data())


def insert(conn: Conn, notice: LeadgenNotice, lead: FetchedLead) -> int | None:
    ad_id = lead.ad_id or notice.ad_id
    return leads.insert_form_lead(
        conn,
        {"leadgen": notice.leadgen_id, "form": lead.form_id or notice.form_id, "page": notice.page_id, "ad": ad_id,
         "adset": lead.adset_id, "campaign": lead.campaign_id, "name": lead.name, "phone": lead.value(*PHONE_FIELDS),
         "email": lead.value(*EMAIL_FIELDS), "fields": [f.model_dump() for f in lead.field_data]},
    )  # fmt: skip


def notify(tenant: str, notice: LeadgenNotice, lead: FetchedLead) -> None:
    from clawgate.core.notify import notify_operator

    contact = " · ".join(v for v in (lead.name, lead.value(*PHONE_FIELDS), lead.value(*EMAIL_FIELDS)) if v)
    source = f"form {lead.form_id or notice.form_id}, ad {lead.ad_id or notice.ad_id or 'unknown'}"
    notify_operator(tenant, f"New Lead Ads lead: {contact or 'no contact fields'} ({source})")
    logger.info("lead stored", extra={"phone": mask_phone(lead.value(*PHONE_FIELDS) or "")})


def keep_unrouted(notice: LeadgenNotice, reason: str) -> None:
    logger.warning("leadgen notice kept unrouted", extra={"page_id": notice.page_id, "reason": reason})
    with registry_tx() as conn:
        registry.keep_unrouted(conn, PAGE_CHANNEL, notice.page_id, reason, notice.model_dump_json())
