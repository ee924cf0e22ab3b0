from clinics.roles import Perm


def clinic(request):
    return {
        "clinic": getattr(request, "clinic", None),
        "membership": getattr(request, "membership", None),
        "Perm": Perm,
    }
