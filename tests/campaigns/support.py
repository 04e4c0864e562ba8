"""Campaign files the tests share: two campaigns sharing a job type and a login setup."""

# "maker" defines the experiment's mc_jt and mc_ls; "user" uses both without defining them.
MAKER = """\
[campaign]
experiment = mu2e
name = maker
campaign_stage_list = gen

[campaign_defaults]
login_setup = mc_ls
job_type = mc_jt

[campaign_stage gen]
dataset_or_split_data = input_ds

[login_setup mc_ls]
host = pomsgpvm01.fnal.gov
account = mu2epro
setup = setup fife_utils

[job_type mc_jt]
launch_script = fife_launch
parameters = [["-c ", "mc.cfg"]]
output_file_patterns = %.art
"""

USER = """\
[campaign]
experiment = mu2e
name = user
campaign_stage_list = sim, reco

[campaign_defaults]
login_setup = mc_ls

[campaign_stage sim]
job_type = mc_jt

[campaign_stage reco]
job_type = reco_jt

[dependencies reco]
campaign_stage_1 = sim
file_pattern_1 = %.art

[job_type reco_jt]
launch_script = fife_launch
"""
