from django.urls import path

from hours import views

app_name = "hours"
urlpatterns = [
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/burndown.json", views.burndown_data, name="burndown-data"),
    path("agreements/<int:pk>/statements/<str:month>/", views.statement_page, name="statement"),
    path(
        "agreements/<int:pk>/statements/<str:month>/statement.csv",
        views.statement_csv,
        name="statement-csv",
    ),
    path(
        "agreements/<int:pk>/statements/<str:month>/statement.pdf",
        views.statement_pdf,
        name="statement-pdf",
    ),
    path(
        "agreements/<int:pk>/months/<str:month>/close/", views.month_close_view, name="month-close"
    ),
    path(
        "agreements/<int:pk>/months/<str:month>/reopen/",
        views.month_reopen_view,
        name="month-reopen",
    ),
    path("hours/timesheet/", views.timesheet, name="timesheet"),
    path("hours/entries/", views.entry_list, name="entries"),
    path("hours/entries/import/", views.entry_import, name="entries-import"),
    path("hours/entries/<int:pk>/", views.entry_edit, name="entry"),
    path("board/", views.board, name="board"),
    path("board/deliverables/<int:pk>/move/", views.board_move, name="board-move"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/<str:token>.ics", views.ical_feed, name="ical"),
]
