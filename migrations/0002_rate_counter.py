from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import new_id
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('heliograph', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateCounter',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_id, unique=True, db_index=True, max_length=20)),
                ('key', fields.CharField(max_length=100)),
                ('window_start', fields.BigIntField()),
                ('hits', fields.IntField(default=0)),
                ('expires_at', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'rate_counter', 'app': 'heliograph', 'unique_together': (('key', 'window_start'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
