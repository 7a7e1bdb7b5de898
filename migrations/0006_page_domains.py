# Custom domains and branding per page (docs/pages.md "Custom domains and branding").
# Depends on 0004_webhooks for now: the integrator re-chains it after 0005_page_language.
# Only new columns with defaults and a new table: no SQLite table rebuild (see 0004's comment).
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from models.base import new_id


class Migration(migrations.Migration):
    dependencies = [('heliograph', '0005_page_language')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PageDomain',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_id, unique=True, db_index=True, max_length=20)),
                ('page', fields.ForeignKeyField('heliograph.StatusPage', source_field='page_id', db_constraint=True, to_field='id', related_name='domains', on_delete=OnDelete.CASCADE)),
                ('host', fields.CharField(unique=True, max_length=253)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'page_domain', 'app': 'heliograph', 'pk_attr': 'id', 'table_description': 'A host name that serves one page at its root (unique across pages).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='StatusPage',
            name='accent_color',
            field=fields.CharField(default='', max_length=7),
        ),
        ops.AddField(
            model_name='StatusPage',
            name='logo_url',
            field=fields.CharField(default='', max_length=500),
        ),
    ]
