from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import DeliveryKind, SubscriberChannel, SubscriberState
from tortoise import fields


class EnumValuesOnly(ops.AlterField):
    """Only an enum's list of values (the column description) changed, not the column. SQLite
    would rebuild the whole table for it and lose its unique constraints and indexes, so on
    SQLite only the migration state changes; PostgreSQL updates the column comment."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if getattr(state_editor, "DIALECT", "") != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if getattr(state_editor, "DIALECT", "") != "sqlite":
            await super().database_backward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('heliograph', '0003_automation')]

    initial = False

    operations = [
        EnumValuesOnly(
            model_name='Delivery',
            name='kind',
            field=fields.CharEnumField(default=DeliveryKind.NOTIFICATION, description='NOTIFICATION: NOTIFICATION\nCONFIRMATION: CONFIRMATION\nMANAGE_LINK: MANAGE_LINK\nVERIFICATION: VERIFICATION\nCOMPONENT_UPDATE: COMPONENT_UPDATE', enum_type=DeliveryKind, max_length=16),
        ),
        EnumValuesOnly(
            model_name='Subscriber',
            name='channel',
            field=fields.CharEnumField(description='EMAIL: EMAIL\nIM: IM\nWEBHOOK: WEBHOOK', enum_type=SubscriberChannel, max_length=8),
        ),
        EnumValuesOnly(
            model_name='Subscriber',
            name='state',
            field=fields.CharEnumField(default=SubscriberState.PENDING, description='PENDING: PENDING\nCONFIRMED: CONFIRMED\nUNSUBSCRIBED: UNSUBSCRIBED\nDISABLED: DISABLED', enum_type=SubscriberState, max_length=16),
        ),
        ops.AddField(
            model_name='Subscriber',
            name='disabled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Subscriber',
            name='disabled_reason',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Subscriber',
            name='failure_count',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Subscriber',
            name='webhook_secret',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Subscriber',
            name='webhook_url',
            field=fields.CharField(null=True, max_length=1000),
        ),
    ]
