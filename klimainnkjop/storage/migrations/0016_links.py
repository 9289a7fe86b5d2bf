"""Links between measures, agreements and cases: a measure names a library requirement (its expected effect), and
a renewal's procurement case keeps the measures that target the agreement it renews."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('klimainnkjop', '0015_uploads'),
    ]

    operations = [
        migrations.AddField(
            model_name='measure',
            name='requirement',
            field=models.CharField(blank=True, default='', help_text='the code of a library requirement whose expected effect it uses', max_length=40),
        ),
        migrations.AddField(
            model_name='procurementcase',
            name='measures',
            field=models.ManyToManyField(blank=True, help_text='a renewal: the measures that target the agreement, brought in', related_name='cases', to='klimainnkjop.measure'),
        ),
    ]
