# Whether the provider vouched for the account's email at the identity's last sign-in
# (docs/sign-in.md): direct IM messages find the member by that address, so an address the
# provider did not verify must not be used to reach someone's IM account. Existing rows start
# unverified and are set again at their next sign-in.
from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('heliograph', '0007_oidc')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OidcIdentity',
            name='email_verified',
            field=fields.BooleanField(default=False),
        ),
    ]
