"""Construction projects against FutureBuilt and their NS 3720 climate calculations (issue 11 item 5)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('klimainnkjop', '0017_api_tokens'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ClimateCalculation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file_name', models.CharField(max_length=500)),
                ('file_sha256', models.CharField(max_length=64)),
                ('phase', models.CharField(default='design', max_length=20)),
                ('rows', models.IntegerField(default=0)),
                ('kg_co2e', models.FloatField(default=0.0)),
                ('modules', models.JSONField(blank=True, default=dict, help_text='kg CO2e per module (A1-A3, A4, A5, ...)')),
                ('active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='ClimateCalculationRow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('row_no', models.IntegerField()),
                ('building_part', models.CharField(max_length=20)),
                ('building_part_name', models.CharField(blank=True, default='', max_length=200)),
                ('material', models.CharField(blank=True, default='', max_length=200)),
                ('modules', models.JSONField(default=dict)),
                ('kg_co2e', models.FloatField()),
                ('calculation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='parts', to='klimainnkjop.climatecalculation')),
            ],
            options={
                'ordering': ['calculation_id', 'row_no'],
            },
        ),
        migrations.CreateModel(
            name='ConstructionProject',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200)),
                ('project_code', models.CharField(blank=True, default='', help_text="the ledger's project dimension of its investment lines", max_length=60)),
                ('area_m2', models.FloatField(help_text='heated floor area, BRA, m²')),
                ('building_type', models.CharField(default='other', max_length=20)),
                ('phase', models.CharField(default='planning', max_length=20)),
                ('reference_kg_per_m2', models.FloatField(help_text="the reference building's kg CO2e per m² BRA")),
                ('reference_source', models.CharField(blank=True, default='', max_length=300)),
                ('target_cut_percent', models.FloatField(default=50.0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='construction_projects', to='klimainnkjop.organisation')),
            ],
            options={
                'ordering': ['organisation_id', 'name', 'id'],
            },
        ),
        migrations.AddField(
            model_name='climatecalculation',
            name='project',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='calculations', to='klimainnkjop.constructionproject'),
        ),
        migrations.AddConstraint(
            model_name='constructionproject',
            constraint=models.UniqueConstraint(condition=models.Q(('project_code', ''), _negated=True), fields=('organisation', 'project_code'), name='construction_project_code_once'),
        ),
    ]
