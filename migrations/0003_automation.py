from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.base import new_id, utcnow
from models.enums import ComponentStatus, IntegrationKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('heliograph', '0002_rate_counter')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AutomationRule',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_id, unique=True, db_index=True, max_length=20)),
                ('page', fields.ForeignKeyField('heliograph.StatusPage', source_field='page_id', db_constraint=True, to_field='id', related_name='automation_rules', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('position', fields.IntField(default=0)),
                ('enabled', fields.BooleanField(default=True)),
                ('matchers', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('component_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('component_label', fields.CharField(default='', max_length=200)),
                ('impact', fields.CharEnumField(description='OPERATIONAL: OPERATIONAL\nDEGRADED: DEGRADED\nPARTIAL_OUTAGE: PARTIAL_OUTAGE\nFULL_OUTAGE: FULL_OUTAGE\nUNDER_MAINTENANCE: UNDER_MAINTENANCE', enum_type=ComponentStatus, max_length=20)),
                ('impact_label', fields.CharField(default='', max_length=200)),
                ('impact_map', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('title_template', fields.CharField(default='', max_length=300)),
                ('message_template', fields.TextField(default='', unique=False)),
                ('notify', fields.BooleanField(default=True)),
                ('open_after_seconds', fields.IntField(default=0)),
                ('resolve_after_seconds', fields.IntField(default=0)),
                ('human_wins', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
                ('event', fields.ForeignKeyField('heliograph.Event', source_field='event_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('applied', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'automation_rule', 'app': 'heliograph', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Integration',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_id, unique=True, db_index=True, max_length=20)),
                ('page', fields.ForeignKeyField('heliograph.StatusPage', source_field='page_id', db_constraint=True, to_field='id', related_name='integrations', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('kind', fields.CharEnumField(description='ALERTMANAGER: ALERTMANAGER\nGRAFANA: GRAFANA\nGENERIC: GENERIC', enum_type=IntegrationKind, max_length=16)),
                ('prefix', fields.CharField(unique=True, max_length=16)),
                ('token_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'integration', 'app': 'heliograph', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertInbox',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_id, unique=True, db_index=True, max_length=20)),
                ('integration', fields.ForeignKeyField('heliograph.Integration', source_field='integration_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('alerts', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('received_at', fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('leased_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=64)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'alert_inbox', 'app': 'heliograph', 'indexes': [Index(fields=['processed_at', 'received_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertState',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_id, unique=True, db_index=True, max_length=20)),
                ('integration', fields.ForeignKeyField('heliograph.Integration', source_field='integration_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('page_id', fields.CharField(db_index=True, max_length=20)),
                ('key', fields.CharField(max_length=200)),
                ('name', fields.CharField(default='', max_length=300)),
                ('labels', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('summary', fields.CharField(default='', max_length=300)),
                ('description', fields.TextField(default='', unique=False)),
                ('firing', fields.BooleanField(default=False)),
                ('fired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rule', fields.ForeignKeyField('heliograph.AutomationRule', source_field='rule_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('seen_at', fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alert_state', 'app': 'heliograph', 'unique_together': (('integration', 'key'),), 'indexes': [Index(fields=['rule_id', 'firing'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
