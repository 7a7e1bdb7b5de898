from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('heliograph', '0004_webhooks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='StatusPage',
            name='language',
            field=fields.CharField(default='en', max_length=16),
        ),
        ops.AddField(
            model_name='StatusPage',
            name='allow_visitor_language',
            field=fields.BooleanField(default=True),
        ),
    ]
