# Single sign-on (docs/sign-in.md): a user's identities at the OpenID Connect provider, and the
# sign-ins begun there and not finished yet (two new tables); and direct IM messages
# (docs/notifications.md): a nullable column on im_destination (no SQLite table rebuild).
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from models.base import new_id, utcnow


class Migration(migrations.Migration):
    dependencies = [('heliograph', '0006_page_domains')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OidcIdentity',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_id, unique=True, db_index=True, max_length=20)),
                ('user', fields.ForeignKeyField('heliograph.User', source_field='user_id', db_constraint=True, to_field='id', related_name='identities', on_delete=OnDelete.CASCADE)),
                ('issuer', fields.CharField(max_length=255)),
                ('subject', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
                ('last_sign_in_at', fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_identity', 'app': 'heliograph', 'unique_together': (('issuer', 'subject'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OidcLogin',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_id, unique=True, db_index=True, max_length=20)),
                ('state_hash', fields.CharField(unique=True, max_length=64)),
                ('browser_hash', fields.CharField(max_length=64)),
                ('nonce', fields.CharField(max_length=64)),
                ('code_verifier', fields.CharField(max_length=128)),
                ('next_path', fields.CharField(default='/', max_length=500)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_login', 'app': 'heliograph', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ImDestination',
            name='recipient',
            field=fields.CharField(null=True, max_length=100),
        ),
    ]
